-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit

-- == augment ==

-- ecg_train gains augment: random lead-like transformations of the training
-- beats (polarity inversion, amplitude relative to the window, baseline
-- wander, noise, a shifted fiducial point; src/core/nn_augment.h).  The 0.2.0
-- signature is replaced; the C function reads the new argument only when it is
-- there, so the 0.1.0 and 0.2.0 definitions keep working.
DROP FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[]);
CREATE FUNCTION ecg_train(name text, train regclass, arch text DEFAULT 'cnn',
                          validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                          batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                          patience int DEFAULT 15, seed int DEFAULT 42,
                          class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                          validation_fraction float8 DEFAULT 0.3,
                          operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL,
                          augment text DEFAULT 'none')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[], text) IS
'Trains a model (baseline, cnn, cnn_wide, or baseline_rr / cnn_rr with the R-R feature columns of the tables) inside the database, optionally on randomly transformed beats (augment: none, lead, or polarity/amplitude/wander/noise/shift strengths), chooses its operating point (argmax, prior, or validation: tuned for macro F1 on the validation table) and stores it in ecgdl.models; returns its id';
