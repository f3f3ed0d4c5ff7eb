/*
 * pg_util.c - error mapping, server file access and naming helpers.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <sys/stat.h>

#include "access/relation.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/varlena.h"

#include "ecgdl.h"

void
ecgdl_report_status(const ecg_status *st, int format_errcode, const char *context)
{
	int			code;
	const char *hint = NULL;

	switch (st->kind)
	{
		case ECG_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case ECG_ERR_ARGUMENT:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case ECG_ERR_FORMAT:
			code = format_errcode;
			break;
		case ECG_ERR_UNSUPPORTED:
			code = ERRCODE_FEATURE_NOT_SUPPORTED;
			break;
		case ECG_ERR_DATA:
			code = ERRCODE_DATA_EXCEPTION;
			break;
		case ECG_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			hint = "Raise ecgdl.max_memory, or reduce the batch size or the number of rows.";
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 context ? errmsg("%s: %s", context, st->message) : errmsg("%s", st->message),
			 st->detail[0] ? errdetail("%s", st->detail) : 0,
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

void
ecgdl_require_args(FunctionCallInfo fcinfo, int n, const char *fname)
{
	for (int i = 0; i < n; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be NULL", i + 1, fname)));
}

void
ecgdl_check_table_or_view(Oid relid, const char *role)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" is not a table or view", role, ecgdl_relation_name(relid))));
}

void
ecgdl_check_read_server_files(const char *what)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Reading files on the database server requires superuser or the pg_read_server_files role."),
				 errhint("Load the data from the client instead: \\copy it into a staging table and call ecg_import_csv_staged().")));
}

char *
ecgdl_read_server_file(const char *path, size_t *len_out, bool missing_ok)
{
	FILE	   *file;
	struct stat st;
	char	   *buf;
	size_t		got;

	file = AllocateFile(path, PG_BINARY_R);
	if (file == NULL)
	{
		if (missing_ok && errno == ENOENT)
			return NULL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	}
	if (fstat(fileno(file), &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	if (S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory, not a file", path)));
	if ((uint64) st.st_size >= MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file \"%s\" is too large", path)));
	/* the whole file is held in memory: it counts against ecgdl.max_memory */
	{
		ecg_status	limit_st;

		if (ecg_check_memory((size_t) st.st_size, psprintf("reading file \"%s\"", path), &limit_st) != 0)
			ecgdl_report_status(&limit_st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
	}
	buf = MemoryContextAllocHuge(CurrentMemoryContext, (Size) st.st_size + 1);
	got = fread(buf, 1, (size_t) st.st_size, file);
	if (ferror(file))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(file);
	buf[got] = '\0';
	*len_out = got;
	return buf;
}

/*
 * Refuses a part of a (parsed, so well-formed) qualified name longer than
 * PostgreSQL's identifiers, NAMEDATALEN - 1 bytes: stringToQualifiedNameList
 * would cut it without a word, and the table would be made under another
 * name than the one asked for.
 */
static void
check_name_lengths(const char *target)
{
	const char *p = target;

	while (*p)
	{
		const char *start;
		size_t		len = 0;

		while (scanner_isspace(*p))
			p++;
		start = p;
		if (*p == '"')
		{
			for (p++; *p; p++, len++)
			{
				if (*p == '"' && p[1] != '"')
				{
					p++;
					break;
				}
				if (*p == '"')
					p++;		/* a doubled quote is one character */
			}
		}
		else
			for (; *p && *p != '.' && !scanner_isspace(*p); p++)
				len++;
		if (len >= NAMEDATALEN)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("table name \"%s\" is too long", target),
					 errdetail("The name \"%.*s\" has %zu bytes; PostgreSQL names have at most %d.",
							   (int) (p - start), start, len, NAMEDATALEN - 1),
					 errhint("Choose a shorter name.")));
		while (scanner_isspace(*p))
			p++;
		if (*p == '.')
			p++;
	}
}

RangeVar *
ecgdl_new_table_name(const char *target)
{
	List	   *names;
	RangeVar   *rv;

	names = stringToQualifiedNameList(target);
	check_name_lengths(target);
	rv = makeRangeVarFromNameList(names);
	if (OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", target),
				 errhint("Choose another target name, or drop the existing table first.")));
	return rv;
}

char *
ecgdl_relation_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *nspname;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	nspname = get_namespace_name(get_rel_namespace(relid));
	return quote_qualified_identifier(nspname, relname);
}

const char *
ecgdl_class_name(int label)
{
	static const char *const names[ECGDL_N_CLASSES] = {"N", "S", "V", "F", "Q"};

	return (label >= 0 && label < ECGDL_N_CLASSES) ? names[label] : "?";
}

static int
class_of_name(const char *name)
{
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		if (pg_strcasecmp(name, ecgdl_class_name(c)) == 0)
			return c;
	if (strlen(name) == 1 && name[0] >= '0' && name[0] < '0' + ECGDL_N_CLASSES)
		return name[0] - '0';
	return -1;
}

void
ecgdl_parse_class_map(const char *text, double *values, const char *what)
{
	char	   *copy = pstrdup(text);
	char	   *token,
			   *save = NULL;
	bool		any = false;

	for (char *p = copy; *p; p++)
		if (*p == '{' || *p == '}' || *p == '"' || *p == '\'' || isspace((unsigned char) *p))
			*p = ' ';
	for (token = strtok_r(copy, ",", &save); token != NULL; token = strtok_r(NULL, ",", &save))
	{
		char	   *sep = strpbrk(token, "=:");
		char	   *name = token,
				   *end;
		double		value;
		int			c;

		if (sep == NULL)
			goto bad;
		*sep = '\0';
		while (*name == ' ')
			name++;
		for (char *e = name + strlen(name); e > name && e[-1] == ' ';)
			*--e = '\0';
		c = class_of_name(name);
		if (c < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown class \"%s\" in %s", name, what),
					 errhint("Classes are N, S, V, F and Q (or 0..4).")));
		errno = 0;
		value = strtod(sep + 1, &end);
		while (*end == ' ')
			end++;
		if (errno != 0 || *end != '\0' || end == sep + 1 || !isfinite(value))
			goto bad;
		values[c] = value;
		any = true;
	}
	if (any)
		return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s \"%s\"", what, text),
			 errhint("Give values per class such as 'S=5000, V=5000' or '{\"S\": 5000}'.")));
}

void
ecgdl_scan(const char *sql, int block_rows, ecgdl_block_fn fn, void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext block = AllocSetContextCreate(caller, "ecgdl scan block", ALLOCSET_DEFAULT_SIZES);
	Portal		portal;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		MemoryContext spi;

		SPI_cursor_fetch(portal, true, block_rows);
		if (SPI_processed == 0)
			break;
		spi = MemoryContextSwitchTo(block);
		fn(SPI_tuptable, SPI_processed, arg);
		MemoryContextSwitchTo(spi);
		MemoryContextReset(block);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(block);
}

/*
 * Refuses to read a caller-named table's column whose type is not built in.
 * A type some role defined can bring its owner's casts (CREATE CAST ... AS
 * IMPLICIT from an enum or composite type it owns), and those would run with
 * the rights of whoever calls ecgdl when the column is cast or compared.
 * Built-in types have only built-in casts, operators and operator classes
 * (creating any for them needs a superuser).  Columns the table lacks are
 * the caller's layout check's business; names NULL checks every column.
 */
void
ecgdl_require_builtin_column_types(Oid relid, const char *role, const char *const *names, int n)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		wanted = names == NULL;

		if (att->attisdropped)
			continue;
		for (int k = 0; k < n && !wanted; k++)
			wanted = strcmp(NameStr(att->attname), names[k]) == 0;
		if (wanted && att->atttypid >= FirstNormalObjectId)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("column \"%s\" of %s \"%s\" has type %s, which is not a built-in type",
							NameStr(att->attname), role, ecgdl_relation_name(relid),
							format_type_be(att->atttypid)),
					 errdetail("ecgdl reads only columns of built-in types: the casts and operators of "
							   "a type a role defined would run with the rights of ecgdl's caller."),
					 errhint("Copy the data into a table whose columns have built-in types.")));
	}
	relation_close(rel, AccessShareLock);
}
