/*
 * wfdb.h - PhysioNet WFDB records decoded from in-memory buffers.
 *
 * Three parsers, none of which touches the file system (the caller reads the
 * files and hands the bytes over):
 *
 *  - the header (.hea) text: the record line and one line per signal, with
 *    every optional field of the WFDB header format (multi-segment records are
 *    rejected with ECG_ERR_UNSUPPORTED);
 *  - a signal file (.dat): one signal decoded out of the frame-interleaved
 *    samples of all the header's signals stored in that file (formats 8, 16,
 *    24, 32, 61, 80, 160, 212, 310 and 311);
 *  - an annotation file in MIT format (.atr and friends).
 *
 * Every parser checks each byte it reads against the buffer length, and a
 * failure says what is wrong and where (line number, byte offset, record).
 */
#ifndef ECG_WFDB_H
#define ECG_WFDB_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

#define WFDB_NAME_MAX		128		/* record name, file name (incl. NUL) */
#define WFDB_UNITS_MAX		32
#define WFDB_DESC_MAX		128
#define WFDB_DEFAULT_GAIN	200.0	/* ADC units per physical unit when 0/absent */
#define WFDB_DEFAULT_FREQ	250.0	/* sampling frequency when absent */

/* One signal line of a header. */
typedef struct wfdb_signal_spec
{
	char		file_name[WFDB_NAME_MAX];	/* e.g. "100.dat" ("-" = standard input) */
	int			format;			/* storage format: 8, 16, 24, 32, 61, 80, 160, 212, 310, 311 */
	int			samples_per_frame;	/* "212x2": 2; 1 when absent */
	int			skew;			/* "212:3": 3 frames; 0 when absent */
	int64_t		byte_offset;	/* "212+512": 512 bytes of prolog; 0 when absent */
	double		gain;			/* ADC units per physical unit; WFDB_DEFAULT_GAIN when
								 * the header says 0 or omits it */
	int			gain_given;		/* 1 when the header has a non-zero gain */
	int32_t		baseline;		/* ADC value of physical zero; adc_zero when absent */
	char		units[WFDB_UNITS_MAX];	/* "mV" when absent */
	int			adc_resolution; /* bits; the format's natural width when 0/absent */
	int32_t		adc_zero;		/* ADC value at the middle of the input range; 0 if absent */
	int32_t		initial_value;	/* first sample (used by format 8); adc_zero if absent */
	int			checksum;		/* 16-bit signed sum of all samples of the signal */
	int			has_checksum;	/* 1 when the header gives the checksum */
	int			block_size;		/* 0 when absent */
	char		description[WFDB_DESC_MAX]; /* lead name such as "MLII"; "" when absent */
} wfdb_signal_spec;

typedef struct wfdb_header
{
	char		record_name[WFDB_NAME_MAX];
	int			n_signals;
	double		sampling_frequency; /* frames per second; WFDB_DEFAULT_FREQ if absent */
	double		counter_frequency;	/* 0 when absent */
	double		base_counter;	/* 0 when absent */
	int64_t		n_samples;		/* samples per signal (frames); 0 = not given */
	char		base_time[32];	/* as written ("" when absent) */
	char		base_date[32];	/* as written ("" when absent) */
	wfdb_signal_spec *signals;	/* n_signals entries, ecg_alloc'ed */
} wfdb_header;

/*
 * Parses header text (need not be NUL-terminated).  '#' comment lines and
 * blank lines are skipped; "\r\n" line ends are accepted.  On failure *out
 * holds nothing to release.  Errors: ECG_ERR_FORMAT (bad field; message names
 * the field, detail the line), ECG_ERR_UNSUPPORTED (multi-segment record),
 * ECG_ERR_NOMEM.
 */
int			wfdb_header_parse(const char *text, size_t len, wfdb_header *out, ecg_status *st);
void		wfdb_header_release(wfdb_header *h);

/* Index of the first signal whose description equals `description`
 * (case-sensitive, e.g. "MLII"), or -1. */
int			wfdb_header_find_signal(const wfdb_header *h, const char *description);

/*
 * 1 when a signal file name from a header is a plain file name that is safe
 * to open next to the header: non-empty, no '/' or '\\', not "." or "..",
 * not "-" (WFDB's standard input), no control characters.  The glue must
 * check file names with it before opening them (headers are user input).
 */
int			wfdb_file_name_is_plain(const char *name);

/*
 * Decodes signal `signal` of header `h` from `file`, the bytes of the signal
 * file that holds it (h->signals[signal].file_name).  Every signal of the
 * header with the same file name is stored there frame-interleaved (in header
 * order, samples_per_frame samples each per frame) after byte_offset bytes.
 *
 * *adc_out receives an ecg_alloc'ed array of *n_out raw ADC values
 * (n_samples * samples_per_frame of them when the header gives n_samples,
 * else as many complete frames as the file holds).  A skewed signal reads its
 * sample i from frame i + skew; samples past the stored frames then read as
 * the invalid value -32768.
 *
 * Errors: ECG_ERR_ARGUMENT (bad signal index), ECG_ERR_UNSUPPORTED (unknown
 * format, or signals of one file in formats that cannot share it),
 * ECG_ERR_DATA (file shorter than the header says - detail gives expected and
 * actual sizes; checksum mismatch), ECG_ERR_NOMEM.
 */
int			wfdb_signal_decode(const wfdb_header *h, int signal, const uint8_t *file, size_t len,
							   int32_t **adc_out, int64_t *n_out, ecg_status *st);

/* 1 when `format` is one that wfdb_signal_decode understands. */
int			wfdb_format_supported(int format);

/*
 * Bits per stored sample of a fixed-width format (80: 8, 212: 12, 310/311:
 * 10, 16/61/160: 16, 24: 24, 32: 32); 0 for the difference format 8 and
 * for unknown formats.
 */
int			wfdb_format_sample_bits(int format);

/*
 * Encodes a sample stream (the samples of all signals of one file, frame by
 * frame, as wfdb_signal_decode expects them) in `format` (16, 24, 32, 61,
 * 80, 160, 212, 310 or 311; a partial last packed group is written as WFDB
 * does: 2 bytes for a lone 212 sample, ...).  *out is ecg_alloc'ed.  Errors:
 * ECG_ERR_UNSUPPORTED (format 8 or unknown), ECG_ERR_ARGUMENT (a value does
 * not fit the format; the detail names its index), ECG_ERR_NOMEM.
 */
int			wfdb_samples_encode(int format, const int32_t *stream, size_t n, uint8_t **out,
								size_t *out_len, ecg_status *st);

/* Annotations -------------------------------------------------------------- */

/* Annotation type codes with special meaning in the MIT format. */
#define WFDB_ANN_ACMAX	49		/* largest code of a real annotation */
#define WFDB_ANN_SKIP	59
#define WFDB_ANN_NUM	60
#define WFDB_ANN_SUB	61
#define WFDB_ANN_CHN	62
#define WFDB_ANN_AUX	63

typedef struct wfdb_annotation
{
	int64_t		sample;			/* time in samples from the start of the record */
	char		symbol[4];		/* mnemonic, e.g. "N", "V", "+"; "" for codes without one */
	int			type;			/* annotation code 0..49 (ecgcodes.h numbering) */
	int			subtype;		/* from a SUB word, else 0 */
	int			chan;			/* from the last CHN word, else 0 */
	int			num;			/* from the last NUM word, else 0 */
	const char *aux;			/* AUX text, NUL-terminated at its first NUL; "" if none.
								 * Points into the block returned by the parser. */
} wfdb_annotation;

/*
 * Parses a MIT-format annotation file: 16-bit little-endian words of a 6-bit
 * code and a 10-bit interval.  A SKIP word (its 32-bit interval follows,
 * high 16-bit word first) moves the time for the next annotation; SUB, CHN,
 * NUM and AUX words follow the annotation they modify (CHN and NUM also
 * carry over to the annotations after it).  *out receives one ecg_alloc'ed
 * block holding the *n annotations and their aux strings (release with
 * wfdb_annotations_release or ecg_free).  Parsing stops at the end-of-file
 * word (0) or at the end of the buffer when it falls between annotations.
 * Errors: ECG_ERR_FORMAT with the byte offset in the detail (truncated word,
 * SKIP or AUX payload; reserved code 50..58; SUB or AUX before any
 * annotation; negative sample time), ECG_ERR_NOMEM.
 */
int			wfdb_annotations_parse(const uint8_t *buf, size_t len, wfdb_annotation **out,
								   size_t *n, ecg_status *st);
void		wfdb_annotations_release(wfdb_annotation *ann);

/*
 * Writes annotations (sorted by sample) in MIT format: SKIP before intervals
 * that do not fit 10 bits, SUB after an annotation with a non-zero subtype,
 * CHN and NUM when chan or num differ from the previous annotation's, AUX
 * when aux is non-empty (at most 1023 bytes), then the end word.  *out is
 * ecg_alloc'ed.  Errors: ECG_ERR_ARGUMENT (type outside 1..49 - code 0 would
 * read back as the end word -, subtype, chan or num outside 0..1023, an
 * interval beyond 32 bits, aux too long), ECG_ERR_NOMEM.
 */
int			wfdb_annotations_encode(const wfdb_annotation *ann, size_t n, uint8_t **out,
									size_t *out_len, ecg_status *st);

/* Mnemonic of annotation code `type` ("" when the code has none or is out of
 * range), and the code of a mnemonic (-1 when unknown). */
const char *wfdb_annotation_symbol(int type);
int			wfdb_annotation_code(const char *symbol);

#endif
