/*
 * signal_beats.c - ecg_beats_from_signals: beats cut from a signal table at
 * the positions of an annotation table, by exactly the method of
 * ecg_import_wfdb (beats_extract_marks in src/core/beats.c, the same code
 * path the WFDB import takes after decoding).
 *
 * A record's lead is assembled from its chunks (the method resamples and
 * normalises per 10 s window over the whole record), so memory is one lead of
 * one record - 2.6 MB for a 30-minute MIT-BIH record, 124 MB for 24 hours at
 * 360 Hz - counted against ecgdl.max_memory; the annotations of all records
 * (24 bytes each) are held too.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "aami.h"
#include "beats.h"
#include "ecgdl.h"

PG_FUNCTION_INFO_V1(ecg_beats_from_signals);

/* The cut positions of one record. */
typedef struct RecordMarks
{
	RecordItem	item;			/* record name, first */
	beat_mark  *marks;
	size_t		n;
} RecordMarks;

typedef struct CutState
{
	List	   *records;		/* RecordMarks in record order */
	MemoryContext marks_context;
	MemoryContext lead_context; /* the lead being assembled */
	float	   *x;
	int64		n,
				capacity;
	BeatTableWriter *writer;
	int64		next_id;
	int64		unlabelled;
	int64		class_totals[AAMI_N_CLASSES];
} CutState;

/*
 * The rows to cut at: those with a label (their class), those with a symbol
 * of an AAMI class but no label column value (its class), and those with
 * neither symbol nor label (detected beats, unlabelled).  Other rows -
 * non-beat annotations, and beats outside the five classes - are skipped,
 * as ecg_import_wfdb skips them.
 */
static void
keep_marks(const AnnotationRecord *rec, void *arg)
{
	CutState   *cs = arg;
	MemoryContext old = MemoryContextSwitchTo(cs->marks_context);
	RecordMarks *rm = palloc0(sizeof(RecordMarks));

	rm->item.record = pstrdup(rec->record);
	rm->marks = palloc_extended(sizeof(beat_mark) * Max(rec->n, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < rec->n; i++)
	{
		int			label = rec->labels[i];
		beat_mark  *m = &rm->marks[rm->n];

		if (label < 0 && rec->has_symbol[i])
		{
			label = aami_class_of_symbol(rec->ann[i].symbol);
			if (label < 0)
				continue;
		}
		m->sample = rec->ann[i].sample;
		m->label = label;
		memcpy(m->symbol, rec->ann[i].symbol, sizeof(m->symbol));
		rm->n++;
	}
	cs->records = lappend(cs->records, rm);
	MemoryContextSwitchTo(old);
}

static void
cut_begin(const SignalStream *s, double fs, void *arg)
{
	CutState   *cs = arg;

	MemoryContextReset(cs->lead_context);
	cs->x = NULL;
	cs->n = 0;
	cs->capacity = 0;
}

static void
cut_chunk(const SignalStream *s, int64 start, const float *x, int64 n, void *arg)
{
	CutState   *cs = arg;

	if (cs->n + n > cs->capacity)
	{
		int64		capacity = Max(cs->capacity * 2, cs->n + n);
		ecg_status	st;

		capacity = Max(capacity, 65536);
		if (ecg_check_memory((size_t) capacity * sizeof(float),
							 psprintf("record \"%s\", lead \"%s\"", s->record, s->lead), &st) != 0)
			ecgdl_report_status(&st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
		cs->x = cs->x ? repalloc_huge(cs->x, sizeof(float) * capacity) :
			MemoryContextAllocHuge(cs->lead_context, sizeof(float) * capacity);
		cs->capacity = capacity;
	}
	memcpy(cs->x + cs->n, x, sizeof(float) * n);
	cs->n += n;
}

static void
cut_end(const SignalStream *s, double fs, int64 n_samples, void *arg)
{
	CutState   *cs = arg;
	RecordMarks *rm = record_list_find(cs->records, s->record);
	beat_set	set;
	ecg_status	st;
	MemoryContext old;

	if (rm == NULL)
	{
		ereport(NOTICE,
				(errmsg("record %s has no annotations; no beats cut", s->record)));
		return;
	}
	rm->item.used = true;
	old = MemoryContextSwitchTo(cs->lead_context);
	if (beats_extract_marks(cs->x, cs->n, fs, rm->marks, rm->n, &set, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE,
							psprintf("record \"%s\", lead \"%s\"", s->record, s->lead));
	MemoryContextSwitchTo(old);
	beat_table_set_fs(cs->writer, fs);
	for (size_t b = 0; b < set.n_beats; b++)
	{
		const beat *bt = &set.beats[b];

		beat_table_add(cs->writer, cs->next_id++, s->record, bt->sample,
					   bt->symbol[0] ? bt->symbol : NULL, bt->label, bt->signal, BEAT_LENGTH,
					   bt->rr);
	}
	for (int c = 0; c < AAMI_N_CLASSES; c++)
		cs->class_totals[c] += set.class_counts[c];
	cs->unlabelled += set.n_unlabelled;
	if (set.drop_counts[BEAT_DROP_BEFORE_START] + set.drop_counts[BEAT_DROP_AFTER_END] > 0)
		ereport(NOTICE,
				(errmsg("record %s: %lld positions outside the signal dropped", s->record,
						(long long) (set.drop_counts[BEAT_DROP_BEFORE_START] +
									 set.drop_counts[BEAT_DROP_AFTER_END]))));
	MemoryContextReset(cs->lead_context);
	cs->x = NULL;
	cs->n = cs->capacity = 0;
}

/*
 * ecg_beats_from_signals(recordings regclass, annotations regclass, target
 * text, lead text DEFAULT 'MLII') -> bigint: a new beat table (the layout of
 * ecg_import_wfdb's, label NULL for unlabelled beats, plus fs) of the beats
 * of every record present in both tables.
 */
Datum
ecg_beats_from_signals(PG_FUNCTION_ARGS)
{
	Oid			recordings,
				annotations;
	char	   *target,
			   *lead;
	List	   *streams;
	CutState	cs;
	SignalConsumer consumer = {cut_begin, cut_chunk, cut_end, &cs};
	ListCell   *lc;

	ecgdl_require_args(fcinfo, 4, "ecg_beats_from_signals");
	recordings = PG_GETARG_OID(0);
	annotations = PG_GETARG_OID(1);
	target = text_to_cstring(PG_GETARG_TEXT_PP(2));
	lead = text_to_cstring(PG_GETARG_TEXT_PP(3));
	ecgdl_new_table_name(target);
	streams = signal_streams_pick_lead(signal_table_streams(recordings, "signal table"), lead);

	memset(&cs, 0, sizeof(cs));
	cs.marks_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl beat positions",
											 ALLOCSET_DEFAULT_SIZES);
	cs.lead_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl lead",
											ALLOCSET_DEFAULT_SIZES);
	annotation_scan(annotation_table_query(annotations, "annotation table", false),
					psprintf("annotation table \"%s\"", ecgdl_relation_name(annotations)),
					false, keep_marks, &cs);
	cs.next_id = 1;
	cs.writer = beat_table_create(target, BEAT_TABLE_SIGNALS, true);
	signal_read_streams(recordings, "signal table", streams, &consumer);
	foreach(lc, cs.records)
	{
		RecordMarks *rm = lfirst(lc);

		if (!rm->item.used)
			ereport(NOTICE,
					(errmsg("record %s of the annotation table is not in the signal table; no beats cut",
							rm->item.record)));
	}
	beat_table_finish(cs.writer);
	ereport(NOTICE,
			(errmsg("cut %lld beats: N %lld, S %lld, V %lld, F %lld, Q %lld, unlabelled %lld",
					(long long) (cs.next_id - 1), (long long) cs.class_totals[0],
					(long long) cs.class_totals[1], (long long) cs.class_totals[2],
					(long long) cs.class_totals[3], (long long) cs.class_totals[4],
					(long long) cs.unlabelled)));
	MemoryContextDelete(cs.lead_context);
	MemoryContextDelete(cs.marks_context);
	PG_RETURN_INT64(cs.next_id - 1);
}
