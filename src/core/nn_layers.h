/*
 * nn_layers.h - the neural-network layer kernels of ecgdl: one forward and one
 * backward function per layer over flat float buffers (llm.c style).
 *
 * Conventions shared by every kernel below:
 *
 *  Layout.  Activations are [batch][length][channels] (channels-last, like
 *  Keras); dense inputs are [batch][features].  Weights follow Keras:
 *    conv1d kernel  [kernel][in_channels][out_channels], bias [out_channels]
 *    dense kernel   [in_features][out_features],         bias [out_features]
 *    batch norm     gamma[C], beta[C], moving_mean[C], moving_var[C]
 *  so a Keras Flatten of a [length][channels] map is the identity on memory
 *  (index t*channels + c).
 *
 *  Gradients.  Backward kernels WRITE (=) the gradient of their input
 *  (dx, d_logits, ...) and ACCUMULATE (+=) into weight-gradient buffers
 *  (dw, db, dgamma, dbeta): the caller zeroes those once per step.  Where a
 *  dx argument is documented "may be NULL", the input gradient is skipped
 *  (the first layer of a network needs none).
 *
 *  Aliasing.  Element-wise kernels (relu, dropout, add, and the dx of
 *  batchnorm/relu/dropout backward) accept output == input.  Conv, dense,
 *  maxpool and softmax need distinct input and output buffers.
 *
 *  Memory.  Kernels never allocate: the caller passes every buffer, including
 *  a `workspace` for kernels that need scratch memory, sized by the matching
 *  nn_*_workspace_bytes() function (the same workspace can be reused by every
 *  kernel, sized for the largest).  Workspaces must be aligned at least like
 *  malloc (16 bytes); activation and weight buffers need only float alignment.
 *  Sizes are ints (> 0) for dimensions; the caller has checked that every
 *  buffer size fits size_t (kernels compute offsets in size_t).
 *
 *  Threads.  Every kernel takes an nn_pool (NULL = single-threaded).  Work is
 *  split into NN_PARTS fixed parts (over the batch, or over element ranges),
 *  independent of the thread count, and partial sums are reduced in part
 *  order by the calling thread: results are bit-identical for ANY thread count
 *  and repeat exactly from run to run - and on every x86-64 CPU with FMA, as
 *  no kernel calls a BLAS (whose kernels, and summation order, depend on the
 *  CPU model).  Kernels do not call ecg_check_interrupts
 *  (one call takes milliseconds at batch 2048; the caller polls between
 *  layers or batches).
 *
 *  Keras semantics matched: Conv1D padding 'same' pads (kernel-1)/2 zeros on
 *  the left and kernel/2 on the right; BatchNormalization normalises with the
 *  biased batch variance and updates moving_var with that same biased
 *  variance (Keras uses the non-fused path for 3-D inputs, and even its fused
 *  path removes Bessel's correction - unlike PyTorch, whose running_var uses
 *  the unbiased variance); dropout is inverted dropout; MaxPool1D(2) is
 *  'valid' (an odd last element is dropped).
 */
#ifndef ECG_NN_LAYERS_H
#define ECG_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "nn_threads.h"
#include "rng.h"

/* Fixed number of work parts every kernel splits into (>= useful threads). */
#define NN_PARTS 16

/* Keras defaults, for the callers' convenience. */
#define NN_BN_EPSILON 1e-3f
#define NN_BN_MOMENTUM 0.99f

/* Concatenation ----------------------------------------------------------- */

/*
 * y[batch][na + nb] = a[batch][na] followed by b[batch][nb] (distinct
 * buffers).  Backward WRITES da = dy[:, :na] and db = dy[:, na:]; either may
 * be NULL (an input that needs no gradient).  Single-threaded: it only moves
 * (na + nb) floats a row.
 */
void		nn_concat_forward(float *y, const float *a, int na, const float *b, int nb, int batch);
void		nn_concat_backward(float *da, float *db, const float *dy, int na, int nb, int batch);

/* Dense ------------------------------------------------------------------ */

/*
 * y[batch][out] = x[batch][in] * w[in][out] + b[out]   (b may be NULL).
 * Narrow layers (out < 16, in*out <= 8192) use kernels over a 32 KB
 * transposed copy of w on the stack; wider ones a tiled product (nn_dense.c).
 */
void		nn_dense_forward(nn_pool *pool, float *y, const float *x,
							 const float *w, const float *b,
							 int batch, int in, int out);

size_t		nn_dense_backward_workspace_bytes(int batch, int in, int out);

/*
 * dx[batch][in]  = dy * w^T          (written; dx may be NULL)
 * dw[in][out]   += x^T * dy          (accumulated)
 * db[out]       += column sums of dy (accumulated; db may be NULL)
 */
void		nn_dense_backward(nn_pool *pool, float *dx, float *dw, float *db,
							  const float *dy, const float *x, const float *w,
							  int batch, int in, int out, void *workspace);

/* Conv1D, padding 'same', stride 1 ---------------------------------------- */

/*
 * Scratch for nn_conv1d_forward and nn_conv1d_backward (one size serves both;
 * it does not depend on the batch size).
 */
size_t		nn_conv1d_workspace_bytes(int length, int cin, int cout, int kernel);

/*
 * y[b][t][co] = bias[co] + sum_{k,ci} x[b][t + k - (kernel-1)/2][ci] * w[k][ci][co]
 * with x taken as 0 outside [0, length).  bias may be NULL.
 */
void		nn_conv1d_forward(nn_pool *pool, float *y, const float *x,
							  const float *w, const float *bias,
							  int batch, int length, int cin, int cout, int kernel,
							  void *workspace);

/*
 * y = conv(x) + bias + residual: a residual block's closing add fused into its
 * last convolution (saves a pass over memory).  residual is
 * [batch][length][cout] and may equal y (not x); NULL means none.  The
 * residual is added last, so y is bit-identical to nn_conv1d_forward then
 * nn_add_forward(y, y, residual).  The backward pass is nn_conv1d_backward's,
 * with dy passed on unchanged to the residual's branch.
 */
void		nn_conv1d_forward_residual(nn_pool *pool, float *y, const float *x,
									   const float *w, const float *bias,
									   const float *residual,
									   int batch, int length, int cin, int cout, int kernel,
									   void *workspace);

/*
 * dx[batch][length][cin] = gradient w.r.t. x   (written; may be NULL)
 * dw[kernel][cin][cout] += gradient w.r.t. w   (accumulated; may be NULL:
 *                          then no weight or bias gradient, the input
 *                          gradient alone - nn_input_gradient)
 * dbias[cout]           += gradient w.r.t. bias (accumulated; may be NULL)
 */
void		nn_conv1d_backward(nn_pool *pool, float *dx, float *dw, float *dbias,
							   const float *dy, const float *x, const float *w,
							   int batch, int length, int cin, int cout, int kernel,
							   void *workspace);

/* Batch normalisation over rows = batch * length rows of C channels -------- */

size_t		nn_batchnorm_workspace_bytes(int channels);

/*
 * Training mode: per channel c, mean[c] and var[c] (biased) over all rows;
 * invstd[c] = 1 / sqrt(var[c] + eps);
 * y = gamma * (x - mean) * invstd + beta.
 * Saves mean[C], var[C], invstd[C] (all written) for the backward pass and
 * the moving-statistics update.  y may equal x, but the backward pass needs
 * the input x, so keep it if you will call nn_batchnorm_backward.
 */
void		nn_batchnorm_forward_train(nn_pool *pool, float *y, const float *x,
									   const float *gamma, const float *beta,
									   size_t rows, int channels, float eps,
									   float *mean, float *var, float *invstd,
									   void *workspace);

/* Inference mode: y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta */
void		nn_batchnorm_forward_infer(nn_pool *pool, float *y, const float *x,
									   const float *gamma, const float *beta,
									   const float *moving_mean, const float *moving_var,
									   size_t rows, int channels, float eps);

/*
 * From dy and the forward input x with the saved mean/invstd:
 * dx (written; may equal dy), dgamma += sum dy*xhat, dbeta += sum dy.
 */
void		nn_batchnorm_backward(nn_pool *pool, float *dx, float *dgamma, float *dbeta,
								  const float *dy, const float *x, const float *gamma,
								  const float *mean, const float *invstd,
								  size_t rows, int channels, void *workspace);

/*
 * Backward of the INFERENCE-mode batch norm (a per-channel affine map with
 * the moving statistics), optionally followed by a ReLU:
 * dx = dy * gamma / sqrt(moving_var + eps), times [y > 0] when y is not NULL
 * (y: the ReLU's output).  The scale is computed as the forward kernel
 * computes it.  No parameter gradients; dx may equal dy.
 */
void		nn_batchnorm_backward_infer(nn_pool *pool, float *dx, const float *dy, const float *y,
										const float *gamma, const float *moving_var,
										size_t rows, int channels, float eps);

/*
 * Keras moving-statistics update (momentum 0.99 in Keras terms):
 * moving_mean = momentum * moving_mean + (1 - momentum) * mean
 * moving_var  = momentum * moving_var  + (1 - momentum) * var   (biased var)
 */
void		nn_batchnorm_update_moving(float *moving_mean, float *moving_var,
									   const float *mean, const float *var,
									   int channels, float momentum);

/* ReLU -------------------------------------------------------------------- */

/* y = max(x, 0); y may equal x */
void		nn_relu_forward(nn_pool *pool, float *y, const float *x, size_t n);

/* dx = dy where y > 0, else 0 (y: the forward output, or its input); dx may equal dy */
void		nn_relu_backward(nn_pool *pool, float *dx, const float *dy, const float *y,
							 size_t n);

/* Dropout (inverted; identity in inference, so only training has kernels) - */

/*
 * mask[i] = 1 with probability 1 - rate, else 0; y = x * mask / (1 - rate).
 * rate in [0, 1).  Draws exactly one value from *rng (in the calling thread);
 * the mask is a fixed function of that value and the element index, so it is
 * the same for any thread count, and the same as the fused kernel's mask for
 * the same rng state and n.  (Each element compares 32 hashed bits with
 * rate * 2^32.)  y may equal x.
 */
void		nn_dropout_forward_train(nn_pool *pool, float *y, const float *x, uint8_t *mask,
									 size_t n, float rate, rng_state *rng);

/* dx = dy * mask / (1 - rate); dx may equal dy */
void		nn_dropout_backward(nn_pool *pool, float *dx, const float *dy, const uint8_t *mask,
								size_t n, float rate);

/* MaxPool1D, pool 2, stride 2, 'valid' ------------------------------------ */

/*
 * y[b][t][c] = max(x[b][2t][c], x[b][2t+1][c]) for t < length / 2;
 * argmax[b][t][c] = 0 or 1, which of the two won (ties: the first, like
 * PyTorch).  y and argmax have batch * (length/2) * channels elements.
 */
void		nn_maxpool1d_forward(nn_pool *pool, float *y, uint8_t *argmax, const float *x,
								 int batch, int length, int channels);

/* dx[batch][length][channels] written: dy routed to the winners, 0 elsewhere */
void		nn_maxpool1d_backward(nn_pool *pool, float *dx, const float *dy,
								  const uint8_t *argmax, int batch, int length, int channels);

/* Residual add ------------------------------------------------------------ */

/*
 * y = a + b (y may equal a or b).  Its backward pass is the identity for both
 * inputs: pass dy on to both branches (nn_accumulate sums two gradients).
 */
void		nn_add_forward(nn_pool *pool, float *y, const float *a, const float *b, size_t n);

/* y += x */
void		nn_accumulate(nn_pool *pool, float *y, const float *x, size_t n);

/* Softmax + categorical cross-entropy ------------------------------------- */

/* probs[batch][classes] = softmax(logits) per row (inference) */
void		nn_softmax_forward(nn_pool *pool, float *probs, const float *logits,
							   int batch, int classes);

/*
 * probs = softmax(logits); returns the mean loss
 *   (1/batch) * sum_i w_i * -log(probs[i][labels[i]])
 * computed as logsumexp - logit (no clipping), with w_i = sample_weight[i] or
 * 1 when sample_weight is NULL (Keras' SUM_OVER_BATCH_SIZE: divides by batch,
 * not by the weight sum).  sample_loss[batch] (may be NULL) receives the
 * unweighted per-sample losses.  labels[i] must be in [0, classes); a row with
 * an out-of-range label contributes nothing (its probs are still written).
 */
double		nn_softmax_xent_forward(nn_pool *pool, float *probs, float *sample_loss,
									const float *logits, const int32_t *labels,
									const float *sample_weight, int batch, int classes);

/* d_logits = (probs - onehot(labels)) * w_i / batch   (written) */
void		nn_softmax_xent_backward(nn_pool *pool, float *d_logits, const float *probs,
									 const int32_t *labels, const float *sample_weight,
									 int batch, int classes);

/* Fused BatchNorm -> ReLU -> Dropout (the cnn's recurring triple) ---------- */

/*
 * Training: y = dropout(relu(batchnorm_train(x))), one output pass.  Results
 * (y, mean, var, invstd, mask) equal nn_batchnorm_forward_train, then
 * nn_relu_forward, then nn_dropout_forward_train with the same rng state.
 * mask == NULL or rate == 0 means no dropout (no rng draw; rng may then be
 * NULL).  y must not alias x (the backward pass needs x).
 */
void		nn_bn_relu_dropout_forward_train(nn_pool *pool, float *y, const float *x,
											 const float *gamma, const float *beta,
											 size_t rows, int channels, float eps,
											 float *mean, float *var, float *invstd,
											 uint8_t *mask, float rate, rng_state *rng,
											 void *workspace);

/* Inference: y = relu(batchnorm_infer(x)) (dropout is the identity); y may equal x */
void		nn_bn_relu_forward_infer(nn_pool *pool, float *y, const float *x,
									 const float *gamma, const float *beta,
									 const float *moving_mean, const float *moving_var,
									 size_t rows, int channels, float eps);

/*
 * Backward of the fused triple from dy (gradient of y) and the forward input
 * x: dx written (may equal dy), dgamma/dbeta accumulated.  mask/rate as given
 * to the forward call (mask NULL or rate 0: no dropout).
 */
void		nn_bn_relu_dropout_backward(nn_pool *pool, float *dx, float *dgamma, float *dbeta,
										const float *dy, const float *x,
										const float *gamma, const float *beta,
										const float *mean, const float *invstd,
										const uint8_t *mask, float rate,
										size_t rows, int channels, void *workspace);

#endif
