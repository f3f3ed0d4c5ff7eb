-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit

-- == explain ==
-- Why a model gives a beat its class (README "Why this class?"): integrated
-- gradients of the predicted class's logit from the beat flattened to its
-- median, 64 midpoint steps through the model's own backward pass.  STABLE and
-- PARALLEL SAFE like ecg_classify: they read a stored model by name.  The
-- _beat forms take a beat row (its signal and, for a model with R-R
-- features, its rr_* columns), like ecg_classify_beat; they are named apart
-- for the same reason (an overload on record would make calls with an
-- untyped literal ambiguous).

CREATE FUNCTION ecg_explain(model text, signal real[])
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_explain'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain(text, real[]) IS
'Per-sample attribution of the class a stored model predicts for a beat (integrated gradients of the class logit from the beat flattened to its median, 64 steps): one value per sample, adding up to the logit''s rise from that flat beat; show it with ecg_plot_beat(signal, shading => ...)';

CREATE FUNCTION ecg_explain_beat(model text, beat record)
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_explain'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_beat(text, record) IS
'ecg_explain for a beat row: its signal column and, for a model with R-R features, its rr_* columns (held fixed: only the samples are attributed)';

CREATE FUNCTION ecg_explain_details(model text, signal real[], OUT class smallint, OUT score real,
                                    OUT baseline_score real, OUT attributions real[])
RETURNS record
AS 'MODULE_PATHNAME', 'ecg_explain_details'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_details(text, real[]) IS
'ecg_explain with what it explains: the class (as ecg_classify returns it), its logit at the beat (score) and at the beat flattened to its median (baseline_score); sum(attributions) approximates score - baseline_score';

CREATE FUNCTION ecg_explain_beat_details(model text, beat record, OUT class smallint, OUT score real,
                                         OUT baseline_score real, OUT attributions real[])
RETURNS record
AS 'MODULE_PATHNAME', 'ecg_explain_details'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_beat_details(text, record) IS
'ecg_explain_details for a beat row (signal and, for a model with R-R features, the rr_* columns)';

-- == qrs2 ==
-- ecg_detect_beats on two leads at once: the fourth argument second_lead
-- (NULL: the one-lead detector, as before).  The C function also serves the
-- 0.2.0 definition with three arguments.
DROP FUNCTION ecg_detect_beats(regclass, text, text);

CREATE FUNCTION ecg_detect_beats(recordings regclass, target text, lead text DEFAULT 'MLII',
                                 second_lead text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_detect_beats'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_detect_beats(regclass, text, text, text) IS
'Detects the beats of one lead (or of it and second_lead together, each lead''s detector trusted by its noise level) of every record of a signal table into a new annotation table (symbol and label NULL); returns the number of beats';
