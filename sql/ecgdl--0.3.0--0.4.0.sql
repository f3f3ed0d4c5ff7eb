-- ecgdl 0.3.0 -> 0.4.0.  Scripts of released versions are never edited;
-- everything 0.4.0 adds is here, in sections as in the previous script.
\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.4.0'" to load this file. \quit

-- == experts ==
-- A product of experts (issue 12): stored models as one model whose logits
-- are the sum of theirs (src/core/nn_combine.h), such as a shape network and
-- rr_linear, a linear model of the R-R features; the operating point of the
-- combination is chosen on a validation table.  The result is an ordinary
-- model (architecture 'logit_sum'): every classify, evaluate and explain
-- function takes it, and its blob is of the existing format.
CREATE FUNCTION ecg_model_combine(name text, models text[], validation regclass DEFAULT NULL,
                                  operating_point text DEFAULT 'argmax',
                                  replace boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_model_combine'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_model_combine(text, text[], regclass, text, boolean) IS
'Stores a model whose class scores are the sums of 2 to 4 stored models'' (a product of experts, e.g. a shape network and the rhythm model rr_linear), with the operating point argmax or tuned for macro F1 on a validation table; returns its id';

COMMENT ON FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[], text) IS
'Trains a model (baseline, cnn, cnn_wide, or baseline_rr / cnn_rr / rr_net / rr_linear with the R-R feature columns of the tables) inside the database, optionally on randomly transformed beats (augment: none, lead, or polarity/amplitude/wander/noise/shift strengths), chooses its operating point (argmax, prior, or validation: tuned for macro F1 on the validation table) and stores it in ecgdl.models; returns its id';
