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
from collections import defaultdict
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

# Primary keys, unique and exclusion constraints, and the other indexes, each under the template's name:
# `LIKE ... INCLUDING INDEXES` would name them afresh (`<table>_<columns>_key`, `..._idx`), and a later
# migration that removes or renames one by its name would not find it in a cloned schema.
_INDEX_CONSTRAINTS_SQL = """
SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con
WHERE con.connamespace = %(schema)s::regnamespace AND con.contype IN ('p', 'u', 'x')
ORDER BY 1, 2
"""

_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (
    SELECT FROM pg_constraint con
    WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
  )
ORDER BY 1, ic.relname
"""

_LOCAL_REFERENCE = re.compile(r'REFERENCES ("?[a-z_0-9]+"?)\(')
_INDEX_TABLE = re.compile(r"^(CREATE (?:UNIQUE )?INDEX \S+ ON (?:ONLY )?)(\S+)( USING )")


@dataclass
class TemplateLayout:
    """What a clone of one layout of the template copies, read once from the catalogue."""

    tables: list[str]
    foreign_keys: list[tuple[str, str, str]]
    identities: list[tuple[str, str]]
    shape: dict[str, int]
    # The tables that hold rows in the template (migration records, content types, permissions, roles):
    # only these are copied row by row and have their sequences moved; the others are created empty.
    tables_with_rows: frozenset[str] = frozenset()
    # (table, name, definition) of primary keys, unique and exclusion constraints; (table, CREATE INDEX)
    index_constraints: list[tuple[str, str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = field(default=False)

    def _plan(self) -> tuple[list[str], dict[str, list[int]], list[int]]:
        """The order to create the tables in, so that a foreign key can be declared in its table's CREATE
        TABLE (the referenced table already exists there, and an empty new table needs no check of its
        rows); the keys that cannot (cycles, tables that get rows, references out of the schema) are added
        after the rows by ALTER TABLE, which checks the rows."""
        known = set(self.tables)
        inline: dict[str, list[int]] = defaultdict(list)
        edges: dict[str, list[tuple[int, str]]] = defaultdict(list)
        after: list[int] = []
        for index, (table, _name, definition) in enumerate(self.foreign_keys):
            match = _LOCAL_REFERENCE.search(definition)
            referenced = match.group(1).strip('"') if match else None
            if table in self.tables_with_rows or referenced not in known:
                after.append(index)
            elif referenced == table:
                inline[table].append(index)
            else:
                edges[table].append((index, referenced))
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(table: str) -> None:
            state[table] = "visiting"
            for index, referenced in edges[table]:
                if state.get(referenced) == "visiting":  # a cycle: this key waits for both tables
                    after.append(index)
                    continue
                if referenced not in state:
                    visit(referenced)
                inline[table].append(index)
            state[table] = "done"
            order.append(table)

        for table in self.tables:
            if table not in state:
                visit(table)
        return order, inline, sorted(after)

    def script(self, *, source: str, target: str) -> str:
        quote = connection.ops.quote_name

        def repoint(definition: str) -> str:
            return _LOCAL_REFERENCE.sub(lambda match: f"REFERENCES {quote(target)}.{match.group(1)}(", definition)

        order, inline, after = self._plan()
        constraints: dict[str, list[str]] = defaultdict(list)
        for table, name, definition in self.index_constraints:
            constraints[table].append(f"CONSTRAINT {quote(name)} {definition}")
        indexes: dict[str, list[str]] = defaultdict(list)
        for table, definition in self.indexes:
            head = _INDEX_TABLE.match(definition)
            if head is None:
                raise ValueError(f"Unexpected index definition: {definition}")
            qualified = f"{quote(target)}.{quote(table)}"
            indexes[table].append(f"{head.group(1)}{qualified}{head.group(3)}{definition[head.end() :]}")
        statements = [f"CREATE SCHEMA {quote(target)}"]
        for table in order:
            elements = [f"LIKE {quote(source)}.{quote(table)} INCLUDING ALL EXCLUDING INDEXES", *constraints[table]]
            for index in inline.get(table, []):
                _table, name, definition = self.foreign_keys[index]
                elements.append(f"CONSTRAINT {quote(name)} {repoint(definition)}")
            statements.append(f"CREATE TABLE {quote(target)}.{quote(table)} ({', '.join(elements)})")
            statements.extend(indexes[table])
        for table in order:
            if table in self.tables_with_rows:
                statements.append(
                    f"INSERT INTO {quote(target)}.{quote(table)} SELECT * FROM {quote(source)}.{quote(table)}"
                )
        for index in after:
            table, name, definition = self.foreign_keys[index]
            statements.append(
                f"ALTER TABLE {quote(target)}.{quote(table)} ADD CONSTRAINT {quote(name)} {repoint(definition)}"
            )
        for table, column in self.identities:
            if table not in self.tables_with_rows:
                continue  # a new identity sequence already starts where the empty template's does
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
    quote = connection.ops.quote_name
    # in a transaction of its own: the search path set for the reading must hold for all of it
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [connection.ops.quote_name(source)])
        cursor.execute(_TABLES_SQL, {"schema": source})
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(_FOREIGN_KEYS_SQL, {"schema": source})
        foreign_keys = [(table.rsplit(".", 1)[-1].strip('"'), name, definition) for table, name, definition in cursor]
        cursor.execute(_IDENTITIES_SQL, {"schema": source})
        identities = [(table, column) for table, column in cursor.fetchall()]
        cursor.execute(_INDEX_CONSTRAINTS_SQL, {"schema": source})
        index_constraints = [
            (table.rsplit(".", 1)[-1].strip('"'), name, definition) for table, name, definition in cursor
        ]
        cursor.execute(_INDEXES_SQL, {"schema": source})
        indexes = [(table, definition) for table, definition in cursor.fetchall()]
        tables_with_rows: frozenset[str] = frozenset()
        if tables:
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s WHERE EXISTS (SELECT FROM {quote(source)}.{quote(table)})" for table in tables
                ),
                tables,
            )
            tables_with_rows = frozenset(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT set_config('search_path', %s, true)", [connection.schema_name or "public"])
    layout = TemplateLayout(
        tables=tables,
        foreign_keys=foreign_keys,
        identities=identities,
        shape=schema_shape(source),
        tables_with_rows=tables_with_rows,
        index_constraints=index_constraints,
        indexes=indexes,
    )
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
