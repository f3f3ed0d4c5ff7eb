-- security_model: crafted model blobs with a VALID checksum, imported by an
-- ordinary role through ecg_model_import and used by every classification
-- function (issue 10, findings 1, 7 and 10).  Before the fix such blobs
-- imported, and using one read length x channels floats per beat from beats
-- of 187: with 65536 channels ecg_classify_table and ecg_predict_proba below
-- killed the backend with SIGSEGV (the postmaster then restarts every
-- session); fewer channels read other memory (garbage results, or a crash on
-- larger tables).  Now every such blob is refused when imported (22P03), and
-- one already stored is refused when used (XX001), each with a clear message.
-- Self-contained: its own role, table and models, dropped at the end.
SET client_min_messages = warning;

-- sm_u32(v): v as 4 bytes little-endian (-1 as 0xFFFFFFFF)
CREATE FUNCTION sm_u32(v bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    u bigint := CASE WHEN v < 0 THEN v + 4294967296 ELSE v END;
    b bytea := '\x00000000';
BEGIN
    FOR i IN 0..3 LOOP
        b := set_byte(b, i, ((u >> (8 * i)) & 255)::int);
    END LOOP;
    RETURN b;
END $$;

-- sm_crc32(b): CRC-32 (IEEE, as zlib) of b, table-driven
CREATE FUNCTION sm_crc32(b bytea) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    tab bigint[];
    c bigint;
    crc bigint := 4294967295;
BEGIN
    FOR n IN 0..255 LOOP
        c := n;
        FOR k IN 1..8 LOOP
            c := CASE WHEN c & 1 = 1 THEN 3988292384 # (c >> 1) ELSE c >> 1 END;
        END LOOP;
        tab[n] := c;
    END LOOP;
    FOR i IN 0..length(b) - 1 LOOP
        crc := tab[(crc # get_byte(b, i)) & 255] # (crc >> 8);
    END LOOP;
    RETURN crc # 4294967295;
END $$;

-- sm_blob(length, channels, nodes, metadata): a complete model blob in the
-- format of the README ("Model format"), checksum included.  Node 0 is the
-- input (length x channels); nodes lists every further node as 5 integers
-- (op, input0, input1, units, size): 2 conv1d, 3 dense, 4 batchnorm, 5 relu,
-- 7 maxpool, 9 flatten.  Every weight is 0 (so every class gets 0.2), moving
-- variances 1.  The tensor table follows the graph, as the decoder demands.
CREATE FUNCTION sm_blob(in_length int, in_channels int, nodes int[], metadata bytea DEFAULT '')
RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    op_names text[] := '{input,conv1d,dense,batchnorm,relu,dropout,maxpool,add,flatten}';
    n int := array_length(nodes, 1) / 5;
    len int[];
    ch int[];
    graph bytea := sm_u32(1) || sm_u32(-1) || sm_u32(-1) || sm_u32(in_channels) || sm_u32(in_length) || sm_u32(0);
    tensors bytea := '';
    data bytea := '';
    n_tensors int := 0;
    op int; a int; units int; size int; l int; c int;
    params text[];
    dims int[][];
    body bytea;
BEGIN
    len[0] := in_length;
    ch[0] := in_channels;
    FOR i IN 1..n LOOP
        op := nodes[5 * i - 4]; a := nodes[5 * i - 3]; units := nodes[5 * i - 1]; size := nodes[5 * i];
        graph := graph || sm_u32(op) || sm_u32(a) || sm_u32(nodes[5 * i - 2]) || sm_u32(units) || sm_u32(size) || sm_u32(0);
        l := len[a]; c := ch[a];
        len[i] := l; ch[i] := c;
        params := '{}';
        IF op = 2 THEN
            ch[i] := units;
            params := '{kernel,bias}';
            dims := ARRAY[ARRAY[size, c, units], ARRAY[units, 0, 0]];
        ELSIF op = 3 THEN
            len[i] := 1; ch[i] := units;
            params := '{kernel,bias}';
            dims := ARRAY[ARRAY[l * c, units, 0], ARRAY[units, 0, 0]];
        ELSIF op = 4 THEN
            params := '{gamma,beta,moving_mean,moving_var}';
            dims := ARRAY[ARRAY[c, 0, 0], ARRAY[c, 0, 0], ARRAY[c, 0, 0], ARRAY[c, 0, 0]];
        ELSIF op = 7 THEN
            len[i] := l / 2;
        ELSIF op = 9 THEN
            len[i] := 1; ch[i] := l * c;
        END IF;
        FOR p IN 1..coalesce(array_length(params, 1), 0) LOOP
            DECLARE
                name bytea := convert_to(op_names[op] || '_' || i || '.' || params[p], 'UTF8');
                rank int := CASE WHEN dims[p][3] > 0 THEN 3 WHEN dims[p][2] > 0 THEN 2 ELSE 1 END;
                count bigint := 1;
            BEGIN
                tensors := tensors || sm_u32(length(name)) || name || sm_u32(rank);
                FOR d IN 1..rank LOOP
                    tensors := tensors || sm_u32(dims[p][d]);
                    count := count * dims[p][d];
                END LOOP;
                data := data || decode(repeat(CASE WHEN params[p] = 'moving_var' THEN '0000803f' ELSE '00000000' END,
                                              count::int), 'hex');
                n_tensors := n_tensors + 1;
            END;
        END LOOP;
    END LOOP;
    body := sm_u32(in_length) || sm_u32(in_channels) || sm_u32(ch[n]) || sm_u32(n + 1) || graph
        || sm_u32(n_tensors) || tensors || data || sm_u32(length(metadata)) || metadata;
    body := convert_to('ECGDLMDL', 'UTF8') || sm_u32(1) || sm_u32(16 + 32 + length(body) + 4)
        || convert_to('crafted', 'UTF8') || decode(repeat('00', 25), 'hex') || body;
    RETURN body || sm_u32(sm_crc32(body));
END $$;

-- the CRC is zlib's; the crafted format is right: a well-shaped crafted model
-- imports and classifies (every weight 0: every class 0.2, class 0 first)
SELECT sm_crc32(convert_to('123456789', 'UTF8')) = x'CBF43926'::bigint AS crc_ok;
SELECT encode(sm_u32(-1), 'hex') AS minus_one, encode(sm_u32(1 << 20), 'hex') AS one_mib;

CREATE ROLE regress_sm_user LOGIN;
CREATE TABLE sm_beats (id bigint PRIMARY KEY, record text, sample bigint, symbol text, label smallint, signal real[]);
INSERT INTO sm_beats
SELECT n, NULL, NULL, NULL, (n % 5)::smallint,
       ARRAY(SELECT (0.5 + 0.4 * sin(n * s * 0.05))::real FROM generate_series(1, 187) s)
FROM generate_series(1, 20) n;
ALTER TABLE sm_beats OWNER TO regress_sm_user;
SET ROLE regress_sm_user;

SELECT ecg_model_import('sm_ok', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,5,0}')) > 0 AS imported;
SELECT ecg_classify('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1)) AS class,
       ecg_predict_proba('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1)) AS probabilities;
SELECT count(*) AS rows, min(predicted) AS class FROM ecg_classify_table('sm_ok', 'sm_beats');
SELECT class, support FROM ecg_evaluate('sm_ok', 'sm_beats') WHERE class IN ('N', 'accuracy');

-- Finding 1: shapes the classification code does not feed or read.  Each blob
-- is valid (checksum, graph, tensor table); importing it is refused.
CREATE TEMP TABLE sm_crafted (name text, blob bytea);
INSERT INTO sm_crafted VALUES
    -- input(200 x 16) -> dense(5): crashed ecg_classify_table
    ('sm_channels16', sm_blob(200, 16, '{9,0,-1,0,0, 3,1,-1,5,0}')),
    -- 200 x 4096, reduced by a 1x1 conv: crashed ecg_predict_proba
    ('sm_channels4096', sm_blob(200, 4096, '{2,0,-1,1,1, 9,1,-1,0,0, 3,2,-1,5,0}')),
    -- 200 x 64: read memory beyond the beat
    ('sm_channels64', sm_blob(200, 64, '{2,0,-1,1,1, 9,1,-1,0,0, 3,2,-1,5,0}')),
    -- 200 x 65536 (the most channels the graph check allowed): read 48 MB
    -- from a beat of 187 floats, always beyond mapped memory
    ('sm_channels65536', sm_blob(200, 65536, '{2,0,-1,1,1, 9,1,-1,0,0, 3,2,-1,5,0}')),
    -- a longer input than the 200 samples a beat is padded to
    ('sm_length1000', sm_blob(1000, 1, '{7,0,-1,0,2, 7,1,-1,0,2, 9,2,-1,0,0, 3,3,-1,5,0}')),
    -- a shorter one
    ('sm_length8', sm_blob(8, 1, '{9,0,-1,0,0, 3,1,-1,5,0}')),
    -- 7 or 2 classes where ecgdl reads 5
    ('sm_classes7', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,7,0}')),
    ('sm_classes2', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,2,0}'));
SELECT name, length(blob) AS bytes,
       regress_error(format('SELECT ecg_model_import(%L, %L::bytea)', name, blob)) AS import
FROM sm_crafted ORDER BY name;

-- Finding 7: 54 KB of blob (1x1 convs to 4096 channels and back: 13,290
-- weights) whose activations take 892 MB for a batch of 128 rows
SELECT length(sm_blob(200, 1, '{2,0,-1,4096,1, 2,1,-1,1,1, 9,2,-1,0,0, 3,3,-1,5,0}')) AS bytes,
       regress_error($$SELECT ecg_model_import('sm_wide', sm_blob(200, 1, '{2,0,-1,4096,1, 2,1,-1,1,1, 9,2,-1,0,0, 3,3,-1,5,0}'))$$) AS import;

-- Finding 10: metadata that is not UTF-8 never reaches jsonb
SELECT regress_error($$SELECT ecg_model_import('sm_latin1', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,5,0}', '\x636166e9'))$$) AS latin1,
       regress_error($$SELECT ecg_model_import('sm_surrogate', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,5,0}', '\xeda080'))$$) AS surrogate;
SELECT ecg_model_import('sm_utf8', sm_blob(200, 1, '{9,0,-1,0,0, 3,1,-1,5,0}', convert_to('café €', 'UTF8'))) > 0 AS utf8_imported;
SELECT hyperparameters FROM ecgdl.models WHERE name = 'sm_utf8';
-- nothing was stored by the refused imports
SELECT name FROM ecgdl.models WHERE name LIKE 'sm\_%' ORDER BY name;

-- A crafted blob stored before this release (written into the table directly
-- here, by the table's owner): every classification function refuses it
-- with XX001 instead of crashing (65536 channels: SIGSEGV before the fix).
RESET ROLE;
UPDATE ecgdl.models SET weights = (SELECT blob FROM sm_crafted WHERE name = 'sm_channels65536')
WHERE name = 'sm_ok';
SET ROLE regress_sm_user;
SELECT regress_error($$SELECT ecg_classify_table('sm_ok', 'sm_beats')$$) AS classify_table;
SELECT regress_error($$SELECT ecg_predict_proba('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1))$$) AS predict_proba;
RESET ROLE;
UPDATE ecgdl.models SET weights = (SELECT blob FROM sm_crafted WHERE name = 'sm_channels16')
WHERE name = 'sm_ok';
SET ROLE regress_sm_user;
SELECT regress_error($$SELECT ecg_classify_table('sm_ok', 'sm_beats')$$) AS classify_table;
SELECT regress_error($$SELECT ecg_classify('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1))$$) AS classify;
SELECT regress_error($$SELECT ecg_predict_proba('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1))$$) AS predict_proba;
SELECT regress_error($$SELECT * FROM ecg_evaluate('sm_ok', 'sm_beats')$$) AS evaluate;
RESET ROLE;
UPDATE ecgdl.models SET weights = (SELECT blob FROM sm_crafted WHERE name = 'sm_channels4096')
WHERE name = 'sm_ok';
SET ROLE regress_sm_user;
SELECT regress_error($$SELECT ecg_predict_proba('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1))$$) AS predict_proba;
RESET ROLE;
UPDATE ecgdl.models SET weights = (SELECT blob FROM sm_crafted WHERE name = 'sm_classes7')
WHERE name = 'sm_ok';
SET ROLE regress_sm_user;
SELECT regress_error($$SELECT * FROM ecg_evaluate('sm_ok', 'sm_beats')$$) AS evaluate;
SELECT regress_error($$SELECT ecg_classify('sm_ok', (SELECT signal FROM sm_beats WHERE id = 1))$$) AS classify;

-- Finding 7, the configured limit: a model needing about 30 MB (a 1x1 conv
-- to 128 channels) is within the decoder's bound, but not within
-- ecgdl.max_memory = 16MB, which only a superuser may set (per role with
-- ALTER ROLE ... SET); it is refused on import and when loaded (54000)
SELECT regress_error($$SET ecgdl.max_memory = '4GB'$$) AS ordinary_role_sets_limit;
RESET ROLE;
ALTER ROLE regress_sm_user SET ecgdl.max_memory = '16MB';
SET ROLE regress_sm_user;
SELECT regress_error($$RESET ecgdl.max_memory$$) AS ordinary_role_resets_limit;
RESET ROLE;
SET ecgdl.max_memory = '16MB';
SET ROLE regress_sm_user;
SELECT current_setting('ecgdl.max_memory') AS limit_as_user;
SELECT regexp_replace(regress_error($$SELECT ecg_model_import('sm_medium', sm_blob(200, 1, '{2,0,-1,128,1, 2,1,-1,1,1, 9,2,-1,0,0, 3,3,-1,5,0}'))$$),
                      'takes [0-9]+ bytes', 'takes N bytes') AS import_over_limit;
RESET ROLE;
RESET ecgdl.max_memory;
SET ROLE regress_sm_user;
SELECT ecg_model_import('sm_medium', sm_blob(200, 1, '{2,0,-1,128,1, 2,1,-1,1,1, 9,2,-1,0,0, 3,3,-1,5,0}')) > 0 AS imported_within_limit;
SELECT ecg_classify('sm_medium', (SELECT signal FROM sm_beats WHERE id = 1)) AS class;
RESET ROLE;
SET ecgdl.max_memory = '16MB';
-- a new row version makes this session load the model afresh
UPDATE ecgdl.models SET weights = weights || ''::bytea WHERE name = 'sm_medium';
SET ROLE regress_sm_user;
SELECT regexp_replace(regress_error($$SELECT ecg_classify('sm_medium', (SELECT signal FROM sm_beats WHERE id = 1))$$),
                      'takes [0-9]+ bytes', 'takes N bytes') AS load_over_limit;
RESET ROLE;
RESET ecgdl.max_memory;

-- the server survived all of it: this session is the one that started
SELECT count(*) AS rows FROM sm_beats;

DELETE FROM ecgdl.evaluations WHERE model_name LIKE 'sm\_%';
DELETE FROM ecgdl.models WHERE name LIKE 'sm\_%';
DROP TABLE sm_beats, sm_crafted;
ALTER ROLE regress_sm_user RESET ecgdl.max_memory;
DROP ROLE regress_sm_user;
DROP FUNCTION sm_blob(int, int, int[], bytea), sm_crc32(bytea), sm_u32(bigint);
