-- ecgdl 0.4.0 -> 0.5.0.  Scripts of released versions are never edited;
-- everything 0.5.0 adds is here, in sections as in the previous scripts.
\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.5.0'" to load this file. \quit

-- == experts ==
-- Weighted members (issue 12): each member's logits times its weight, so
-- that k networks of one kind weighted 1/k count as one expert (the
-- geometric mean of an ensemble) beside a rhythm model; up to 8 members and
-- 256 nodes.  The new argument comes last, so calls by position and by name
-- of 0.4.0 mean what they meant; the 0.4.0 declaration goes (two would make
-- a call without weights ambiguous), the C function is the same.
DROP FUNCTION ecg_model_combine(text, text[], regclass, text, boolean);

CREATE FUNCTION ecg_model_combine(name text, models text[], validation regclass DEFAULT NULL,
                                  operating_point text DEFAULT 'argmax',
                                  replace boolean DEFAULT false,
                                  weights float8[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_model_combine'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_model_combine(text, text[], regclass, text, boolean, float8[]) IS
'Stores a model whose class scores are the weighted sums of 2 to 8 stored models'' (a product of experts, e.g. an ensemble of shape networks weighted 1/k each and the rhythm model rr_linear), with the operating point argmax or tuned for macro F1 on a validation table; returns its id';
