"""A lean clone of the partner template schema, whose cost does not grow with the number of partners.

django-tenants' `clone_schema` SQL function copies every kind of object a schema may hold (views,
functions, triggers, policies, ACLs...) and costs ~150 ms for our template. Django migrations create
tables, indexes, constraints and identity sequences only, so this clone copies exactly those:
`CREATE TABLE ... (LIKE ... INCLUDING ALL)` for each table, the foreign keys re-pointed at the new
schema, the template's rows (migration records, content types, permissions) and the identity
sequences moved past them.

What to copy is read from the catalogue once per template layout (keyed by the digest of the
template's migrations) and kept by the process. Reading it on every clone is what made cloning slow
down as partners accumulated: PostgreSQL's catalogue holds ~400 rows per partner schema in
`pg_class` and ~300 in `pg_constraint`, it has no index on a relation's schema alone, and its
statistics lag behind, so the lookups by schema name (and `information_schema.columns`) scanned the
whole catalogue, some in nested loops, several times per clone. Each clone now runs a fixed script.

The first clone from a layout compares the shape of the copy with the template's; if the template
ever holds something this clone does not copy, the caller falls back to django-tenants' full clone.
"""

import re
from dataclasses import dataclass, field

from django.db import connection, transaction

# Only the schema's own relations are counted; catalogue scans by namespace oid run once per layout.
_SHAPE_SQL = """
SELECT 'relation:' || c.relkind::text, count(*) FROM pg_class c
  WHERE c.relnamespace = %(schema)s::regnamespace GROUP BY 1
UNION ALL
SELECT 'constraint:' || con.contype::text, count(*) FROM pg_constraint con
  WHERE con.connamespace = %(schema)s::regnamespace GROUP BY 1
UNION ALL
SELECT 'trigger', count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'function', count(*) FROM pg_proc p WHERE p.pronamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'policy', count(*) FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
  WHERE c.relnamespace = %(schema)s::regnamespace
"""

_TABLES_SQL = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""

# With only the source schema on the path, references inside it come out unqualified and references
# to other schemas (public) come out qualified: only the former are re-pointed at the copy.
_FOREIGN_KEYS_SQL = """
SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con
WHERE con.connamespace = %(schema)s::regnamespace AND con.contype = 'f'
ORDER BY 1, 2
"""

_IDENTITIES_SQL = """
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p') AND a.attidentity <> ''
  AND NOT a.attisdropped
ORDER BY 1, 2
"""

_LOCAL_REFERENCE = re.compile(r'REFERENCES ("?[a-z_0-9]+"?)\(')


@dataclass
class TemplateLayout:
    """What a clone of one layout of the template copies, read once from the catalogue."""

    tables: list[str]
    foreign_keys: list[tuple[str, str, str]]
    identities: list[tuple[str, str]]
    shape: dict[str, int]
    verified: bool = field(default=False)

    def script(self, *, source: str, target: str) -> str:
        quote = connection.ops.quote_name
        statements = [f"CREATE SCHEMA {quote(target)}"]
        for table in self.tables:
            statements.append(
                f"CREATE TABLE {quote(target)}.{quote(table)} (LIKE {quote(source)}.{quote(table)} INCLUDING ALL)"
            )
            statements.append(
                f"INSERT INTO {quote(target)}.{quote(table)} SELECT * FROM {quote(source)}.{quote(table)}"
            )
        for table, name, definition in self.foreign_keys:
            repointed = _LOCAL_REFERENCE.sub(lambda match: f"REFERENCES {quote(target)}.{match.group(1)}(", definition)
            statements.append(f"ALTER TABLE {quote(target)}.{quote(table)} ADD CONSTRAINT {quote(name)} {repointed}")
        for table, column in self.identities:
            qualified = f"{quote(target)}.{quote(table)}"
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{qualified}', '{column}'), "
                f"COALESCE((SELECT max({quote(column)}) FROM {qualified}), 0) + 1, false)"
            )
        return ";\n".join(statements)


# The layouts this process has read, by (template schema, digest of its migrations).
_layouts: dict[tuple[str, str], TemplateLayout] = {}


def schema_shape(schema_name: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_SHAPE_SQL, {"schema": schema_name})
        return {kind: count for kind, count in cursor.fetchall() if count}


def template_layout(*, source: str, layout_key: str) -> TemplateLayout:
    """The template's layout, read from the catalogue the first time this process sees `layout_key`."""
    layout = _layouts.get((source, layout_key))
    if layout is not None:
        return layout
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [connection.ops.quote_name(source)])
        cursor.execute(_TABLES_SQL, {"schema": source})
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(_FOREIGN_KEYS_SQL, {"schema": source})
        foreign_keys = [(table.rsplit(".", 1)[-1].strip('"'), name, definition) for table, name, definition in cursor]
        cursor.execute(_IDENTITIES_SQL, {"schema": source})
        identities = [(table, column) for table, column in cursor.fetchall()]
        cursor.execute("SELECT set_config('search_path', %s, true)", [connection.schema_name or "public"])
    layout = TemplateLayout(tables=tables, foreign_keys=foreign_keys, identities=identities, shape=schema_shape(source))
    _layouts[(source, layout_key)] = layout
    return layout


def clone_schema_lean(*, source: str, target: str, layout_key: str) -> bool:
    """Clone `source` into a new schema `target`; False (and nothing left behind) if the copy of this
    layout comes out with another shape than the template's.

    `layout_key` names the template's layout (the digest of its migrations): the catalogue is read and
    the copy's shape compared only the first time a process clones that layout. Runs inside the
    caller's transaction, in a savepoint, so a False result has already dropped the partial copy.
    """
    layout = template_layout(source=source, layout_key=layout_key)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(layout.script(source=source, target=target))
        if layout.verified:
            return True
        if schema_shape(target) == layout.shape:
            layout.verified = True
            return True
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {connection.ops.quote_name(target)} CASCADE")
        return False
