"""Deterministic demo data for the app's schema, generated inside the database.

Every table is filled by one `INSERT ... SELECT ... FROM generate_series(...)`; values derive
from the row number through md5, so the same scale gives the same rows. Scale 1.0 is about a
million rows in each of content_items, content_items_auto and content_tags, 100,000 users and
10,000 tags. Ownership is skewed (a few users own most items), nullable references are partly
NULL, and some tables hold rows only for users far down the key order, whose parents are never
among the first rows by primary key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from psycopg2 import sql

from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import Session, session
from genonaut.seed.engines.postgres.sequences import advance_sequences

OnTable = Callable[[str, int, float], None]
# (table, i, n, rows expected, seconds left or None before there is anything to go by)
OnStart = Callable[[str, int, int, int, float | None], None]

# Rows per table at scale 1.0, and the least any scale gets (so tiny scales cover every table).
SIZES: dict[str, tuple[int, int]] = {
    "users": (100_000, 60),
    "tags": (10_000, 30),
    "content_items": (1_000_000, 200),
    "content_items_auto": (1_000_000, 200),
    "tag_ratings": (300_000, 40),
    "bookmarks": (200_000, 60),
    "bookmark_categories": (50_000, 40),
    "generation_jobs": (500_000, 80),
    "user_notifications": (300_000, 60),
    "user_search_history": (600_000, 60),
    "user_interactions": (600_000, 80),
    "recommendations": (300_000, 60),
    "flagged_content": (10_000, 30),
    "available_models": (50, 5),
    "models_checkpoints": (2_000, 10),
    "models_loras": (5_000, 15),
    "generation_events": (300_000, 60),
    "generation_metrics_hourly": (10_000, 20),
    "route_analytics": (400_000, 100),
    "route_analytics_hourly": (10_000, 40),
}

# Deterministic building blocks, as temporary functions (they vanish with the session and
# leave nothing in the app's schema). frac() is a fraction in [0, 1) drawn from a string.
_FUNCTIONS = """
CREATE FUNCTION pg_temp.frac(seed text) RETURNS float8 IMMUTABLE LANGUAGE sql
  AS $$ SELECT ('x' || substr(md5(seed), 1, 8))::bit(32)::bigint / 4294967296.0 $$;
CREATE FUNCTION pg_temp.uid(prefix text, n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
  AS $$ SELECT md5(prefix || n)::uuid $$;
CREATE FUNCTION pg_temp.at(n bigint) RETURNS timestamptz IMMUTABLE LANGUAGE sql
  AS $$ SELECT timestamptz '2024-01-01 00:00:00+00' + n * interval '17 seconds' $$;
"""

# One statement per table, parents first. %(name)s are row counts; a "skewed" user is
# uid('user', 1 + floor(users * frac^3)): the first few users own most of the rows.
_STATEMENTS: list[tuple[str, str]] = [
    (
        "users",
        """INSERT INTO users (id, username, email, is_active, preferences, favorite_tag_ids,
                              created_at)
        SELECT pg_temp.uid('user', i), 'user' || i, 'user' || i || '@example.com', i % 10 <> 0,
               jsonb_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END,
                                  'notify', i % 7 <> 0),
               CASE WHEN i % 3 = 0 THEN ARRAY[pg_temp.uid('tag', 1 + i %% %(tags)s),
                                             pg_temp.uid('tag', 1 + (i * 7) %% %(tags)s)] END,
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(users)s) i""",
    ),
    (
        "far_users",
        # Users in the last quarter of the key order: children that only they have.
        """CREATE TEMP TABLE far_users AS
        SELECT row_number() OVER (ORDER BY id) AS rn, id FROM users
        WHERE id >= 'c0000000-0000-0000-0000-000000000000'""",
    ),
    (
        "tags",
        """INSERT INTO tags (id, name, tag_metadata, created_at)
        SELECT pg_temp.uid('tag', i), 'tag-' || i,
               CASE WHEN i % 4 = 0
                    THEN jsonb_build_object('color', '#' || substr(md5('c' || i), 1, 6)) END,
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(tags)s) i""",
    ),
    (
        "tag_parents",
        # A tree eight wide, plus a second parent for every fifth tag (a DAG).
        """INSERT INTO tag_parents (tag_id, parent_id)
        SELECT pg_temp.uid('tag', i), pg_temp.uid('tag', i / 8)
        FROM generate_series(8::bigint, %(tags)s) i
        UNION
        SELECT pg_temp.uid('tag', i), pg_temp.uid('tag', i / 5 - 1)
        FROM generate_series(15::bigint, %(tags)s, 5) i WHERE i / 5 - 1 <> i / 8""",
    ),
    (
        "tag_ratings",
        """INSERT INTO tag_ratings (user_id, tag_id, rating, created_at)
        SELECT f.id, pg_temp.uid('tag', 1 + (i * 31) %% %(tags)s),
               round((1 + 4 * pg_temp.frac('r' || i))::numeric, 1), pg_temp.at(i)
        FROM generate_series(1::bigint, %(tag_ratings)s) i
        JOIN far_users f ON f.rn = 1 + (i * 7919) %% (SELECT count(*) FROM far_users)
        ON CONFLICT DO NOTHING""",
    ),
    (
        "content_items",
        """INSERT INTO content_items_all (id, source_type, creator_id, title, item_metadata, tags,
                                          path_thumb, quality_score, is_private, created_at)
        SELECT i, 'regular',
               pg_temp.uid('user', 1 + floor(%(users)s * pg_temp.frac('cr' || i) ^ 3)::int),
               'Artwork #' || i,
               jsonb_build_object('width', 512 + (i % 4) * 256, 'steps', 20 + i % 30,
                                  'model', 'model-' || i % 5, 'prompt', 'a study in ' || i % 97),
               ARRAY['tag-' || (1 + i %% %(tags)s), 'style-' || i % 17],
               CASE WHEN i % 6 <> 0 THEN '/thumbs/' || i || '.png' END,
               round(pg_temp.frac('q' || i)::numeric, 4), i % 11 = 0, pg_temp.at(i)
        FROM generate_series(1::bigint, %(content_items)s) i""",
    ),
    (
        "content_items_auto",
        """INSERT INTO content_items_all (id, source_type, creator_id, title, item_metadata, tags,
                                          path_thumb, quality_score, is_private, created_at)
        SELECT %(content_items)s + i, 'auto',
               pg_temp.uid('user', 1 + floor(%(users)s * pg_temp.frac('ca' || i) ^ 3)::int),
               'Auto #' || i,
               jsonb_build_object('batch', i / 100, 'model', 'model-' || i % 5),
               ARRAY['auto', 'tag-' || (1 + (i * 3) %% %(tags)s)],
               CASE WHEN i % 4 <> 0 THEN '/thumbs/auto-' || i || '.png' END,
               round(pg_temp.frac('qa' || i)::numeric, 4), false, pg_temp.at(i)
        FROM generate_series(1::bigint, %(content_items_auto)s) i""",
    ),
    (
        "content_items_ext",
        """INSERT INTO content_items_ext (content_id, prompt, seed, thumbnail)
        SELECT i, 'a painting of ' || md5('p' || i), i * 7919,
               CASE WHEN i % 10 = 0 THEN decode(md5('t' || i), 'hex') END
        FROM generate_series(1::bigint, %(content_items)s) i WHERE i % 5 <> 0""",
    ),
    (
        "content_items_auto_ext",
        """INSERT INTO content_items_auto_ext (content_id, prompt, seed, thumbnail)
        SELECT %(content_items)s + i, E'auto prompt\\t' || i, NULL,
               CASE WHEN i % 20 = 0 THEN decode(md5('ta' || i), 'hex') END
        FROM generate_series(1::bigint, %(content_items_auto)s) i WHERE i % 3 <> 0""",
    ),
    (
        "content_tags",
        # No constraint declares content_id: content_source says which partition it is in.
        """INSERT INTO content_tags (content_id, content_source, tag_id)
        SELECT i, 'regular', pg_temp.uid('tag', 1 + (i * 13) %% %(tags)s)
        FROM generate_series(1::bigint, %(content_items)s) i WHERE i % 2 = 0
        UNION ALL
        SELECT %(content_items)s + i, 'auto', pg_temp.uid('tag', 1 + (i * 17) %% %(tags)s)
        FROM generate_series(1::bigint, %(content_items_auto)s) i WHERE i % 2 = 1""",
    ),
    (
        "bookmarks",
        """INSERT INTO bookmarks (id, user_id, content_id, content_source_type, note, pinned,
                                  created_at)
        SELECT pg_temp.uid('bookmark', i),
               pg_temp.uid('user', 1 + (i * 104729) %% %(users)s),
               CASE WHEN i % 3 = 0 THEN %(content_items)s + 1 + (i * 37) %% %(content_items_auto)s
                    ELSE 1 + (i * 31) %% %(content_items)s END,
               CASE WHEN i % 3 = 0 THEN 'auto' ELSE 'regular' END,
               CASE WHEN i % 8 = 0 THEN E'note with\\nnew line ' || i END, i % 9 = 0,
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(bookmarks)s) i""",
    ),
    (
        "bookmark_categories",
        # The same user as the bookmark of the same number, so that members can pair them.
        """INSERT INTO bookmark_categories (id, user_id, name, parent_id, created_at)
        SELECT pg_temp.uid('category', i),
               pg_temp.uid('user', 1 + (i * 104729) %% %(users)s), 'Collection ' || i,
               CASE WHEN i > %(bookmark_categories)s / 2 AND i % 3 = 0
                    THEN pg_temp.uid('category', i - %(bookmark_categories)s / 2) END,
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(bookmark_categories)s) i""",
    ),
    (
        "bookmark_category_members",
        """INSERT INTO bookmark_category_members (bookmark_id, category_id, user_id, position)
        SELECT pg_temp.uid('bookmark', i), pg_temp.uid('category', i),
               pg_temp.uid('user', 1 + (i * 104729) %% %(users)s), i % 20
        FROM generate_series(1::bigint, least(%(bookmarks)s, %(bookmark_categories)s)) i""",
    ),
    (
        "generation_jobs",
        """INSERT INTO generation_jobs (id, user_id, content_id, status, params, error_message,
                                        created_at, finished_at)
        OVERRIDING SYSTEM VALUE
        SELECT i, pg_temp.uid('user', 1 + floor(%(users)s * pg_temp.frac('j' || i) ^ 2)::int),
               CASE WHEN i % 5 < 3 THEN 1 + (i * 17) %% %(content_items)s END,
               (ARRAY['pending', 'running', 'completed', 'failed'])[1 + i % 4]::job_status,
               jsonb_build_object('width', 1024, 'seed', i, 'sampler', 'euler'),
               CASE WHEN i % 4 = 3 THEN 'out of memory' END, pg_temp.at(i),
               CASE WHEN i % 4 >= 2 THEN pg_temp.at(i + 30) END
        FROM generate_series(1::bigint, %(generation_jobs)s) i""",
    ),
    (
        "user_notifications",
        """INSERT INTO user_notifications (id, user_id, related_job_id, related_content_id, message,
                                           read, created_at)
        SELECT i, f.id, CASE WHEN i % 3 = 0 THEN 1 + (i * 7) %% %(generation_jobs)s END,
               CASE WHEN i % 4 = 0 THEN 1 + (i * 11) %% %(content_items)s END,
               'Your image ' || i || ' is ready', i % 2 = 0, pg_temp.at(i)
        FROM generate_series(1::bigint, %(user_notifications)s) i
        JOIN far_users f ON f.rn = 1 + (i * 6007) %% (SELECT count(*) FROM far_users)""",
    ),
    (
        "user_search_history",
        """INSERT INTO user_search_history (id, user_id, query, result_count, created_at)
        SELECT i, f.id, 'search ' || md5('s' || i),
               CASE WHEN i % 5 <> 0 THEN i % 200 END, pg_temp.at(i)
        FROM generate_series(1::bigint, %(user_search_history)s) i
        JOIN far_users f ON f.rn = 1 + (i * 4001) %% (SELECT count(*) FROM far_users)""",
    ),
    (
        "user_interactions",
        """INSERT INTO user_interactions (id, user_id, content_id, interaction_type, duration_ms,
                                          created_at)
        SELECT i, pg_temp.uid('user', 1 + floor(%(users)s * pg_temp.frac('ui' || i) ^ 2)::int),
               CASE WHEN i % 4 <> 0 THEN 1 + (i * 23) %% %(content_items)s END,
               (ARRAY['view', 'like', 'share', 'download'])[1 + i % 4],
               CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 37) % 60000 END, pg_temp.at(i)
        FROM generate_series(1::bigint, %(user_interactions)s) i""",
    ),
    (
        "recommendations",
        """INSERT INTO recommendations (id, user_id, content_id, score, algorithm, created_at)
        SELECT i, pg_temp.uid('user', 1 + (i * 7907) %% %(users)s),
               CASE WHEN i % 6 <> 0 THEN 1 + (i * 29) %% %(content_items)s END,
               pg_temp.frac('rec' || i), (ARRAY['collab', 'content', 'trending'])[1 + i % 3],
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(recommendations)s) i""",
    ),
    (
        "flagged_content",
        """INSERT INTO flagged_content (id, content_item_id, content_item_auto_id, creator_id,
                                        reviewed_by, reason, risk_score, created_at)
        SELECT i, CASE WHEN i % 2 = 0 AND i % 7 <> 0 THEN 1 + (i * 41) %% %(content_items)s END,
               CASE WHEN i % 2 = 1 AND i % 7 <> 0
                    THEN %(content_items)s + 1 + (i * 43) %% %(content_items_auto)s END,
               pg_temp.uid('user', 1 + (i * 613) %% %(users)s),
               CASE WHEN i % 3 = 0 THEN pg_temp.uid('user', 1 + (i * 17) %% %(users)s) END,
               (ARRAY['violence', 'spam', 'copyright'])[1 + i % 3],
               round((100 * pg_temp.frac('risk' || i))::numeric, 2), pg_temp.at(i)
        FROM generate_series(1::bigint, %(flagged_content)s) i""",
    ),
    (
        "available_models",
        """INSERT INTO available_models (id, name, family, is_active)
        SELECT i, 'model-' || i, (ARRAY['sdxl', 'sd15', 'flux'])[1 + i % 3], i % 4 <> 0
        FROM generate_series(1::bigint, %(available_models)s) i""",
    ),
    (
        "models_checkpoints",
        """INSERT INTO models_checkpoints (id, model_id, filename, size_bytes, sha256)
        SELECT i, 1 + i %% %(available_models)s, 'checkpoint-' || i || '.safetensors',
               2000000000 + i * 1000, decode(md5('ck' || i) || md5('ck2' || i), 'hex')
        FROM generate_series(1::bigint, %(models_checkpoints)s) i""",
    ),
    (
        "models_loras",
        """INSERT INTO models_loras (id, checkpoint_id, name, strength, trigger_words)
        SELECT i, 1 + (i * 3) %% %(models_checkpoints)s, 'lora-' || i,
               round((0.5 + pg_temp.frac('l' || i) / 2)::numeric, 2),
               CASE WHEN i % 2 = 0 THEN ARRAY['word' || i, 'with "quotes"', 'comma, inside'] END
        FROM generate_series(1::bigint, %(models_loras)s) i""",
    ),
    (
        "generation_events",
        """INSERT INTO generation_events (id, user_id, job_id, event_type, payload, created_at)
        SELECT i, CASE WHEN i % 5 <> 0 THEN pg_temp.uid('user', 1 + (i * 31) %% %(users)s) END,
               CASE WHEN i % 3 <> 0 THEN 1 + (i * 13) %% %(generation_jobs)s END,
               (ARRAY['queued', 'started', 'finished'])[1 + i % 3],
               CASE WHEN i % 2 = 0 THEN jsonb_build_object('ms', i % 5000, 'gpu', i % 4) END,
               pg_temp.at(i)
        FROM generate_series(1::bigint, %(generation_events)s) i""",
    ),
    (
        "generation_metrics_hourly",
        """INSERT INTO generation_metrics_hourly (hour, model_name, total, succeeded)
        SELECT timestamptz '2024-01-01 00:00:00+00' + (i / 5) * interval '1 hour',
               'model-' || i % 5, 100 + i % 50, 90 + i % 10
        FROM generate_series(0::bigint, %(generation_metrics_hourly)s - 1) i""",
    ),
    (
        "route_analytics",
        # No primary key, and every hundredth row repeats the one before it.
        """INSERT INTO route_analytics (route, method, status, user_id, duration_ms, at)
        SELECT '/api/v1/' || (ARRAY['images', 'tags', 'users', 'search'])[1 + k % 4]
                   || '/' || k % 40,
               (ARRAY['GET', 'POST', 'PUT', 'DELETE'])[1 + k % 4],
               (ARRAY[200, 200, 201, 404, 500])[1 + k % 5],
               CASE WHEN k % 3 <> 0 THEN pg_temp.uid('user', 1 + (k * 89) %% %(users)s) END,
               (k * 7) % 3000, pg_temp.at(k)
        FROM generate_series(1::bigint, %(route_analytics)s) i,
             LATERAL (SELECT CASE WHEN i % 100 = 0 THEN i - 1 ELSE i END AS k) x""",
    ),
    (
        "route_analytics_hourly",
        """INSERT INTO route_analytics_hourly (hour, route, requests, p95_ms)
        SELECT timestamptz '2024-01-01 00:00:00+00' + (i / 40) * interval '1 hour',
               '/api/v1/route/' || i % 40, 10 + i % 300, CASE WHEN i % 9 <> 0 THEN 50 + i % 900 END
        FROM generate_series(0::bigint, %(route_analytics_hourly)s - 1) i""",
    ),
    (
        "gen_source_stats",
        """INSERT INTO gen_source_stats (source_type, items, updated_at)
        VALUES ('regular', %(content_items)s, pg_temp.at(0)),
               ('auto', %(content_items_auto)s, pg_temp.at(0))""",
    ),
    (
        "tag_cardinality_stats",
        """INSERT INTO tag_cardinality_stats (tag_id, cardinality)
        SELECT tag_id, count(*) FROM content_tags GROUP BY tag_id""",
    ),
]


def _with_params(statement: str) -> str:
    """Write `%` (modulo) as psycopg2 wants it when parameters follow: `%%`."""
    return re.sub(r"%(?!\()", "%%", statement.replace("%%", "%"))


@dataclass
class DemoDataReport:
    scale: float
    tables: list[tuple[str, int, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(rows for _, rows, _ in self.tables)

    def as_table(self) -> str:
        width = max(len(name) for name, _, _ in self.tables)
        lines = [
            f"{name.ljust(width)}  {rows:>10,}  {secs:6.2f}s" for name, rows, secs in self.tables
        ]
        lines.append(f"{'total'.ljust(width)}  {self.rows:>10,}  {self.seconds:6.2f}s")
        return "\n".join(lines)


# Tables not in SIZES, sized after another: (that table, rows per its row), roughly. Only the
# progress estimate uses them.
_SIZED_AFTER: dict[str, tuple[str, float]] = {
    "tag_parents": ("tags", 1.2),
    "content_items_ext": ("content_items", 0.8),
    "content_items_auto_ext": ("content_items_auto", 0.67),
    "content_tags": ("content_items", 1.0),
    "bookmark_category_members": ("bookmark_categories", 1.0),
    "tag_cardinality_stats": ("tags", 1.0),
}


def expected_rows(name: str, sizes: dict[str, int]) -> int:
    """About how many rows a statement writes, for the progress estimate."""
    if name in sizes:
        return sizes[name]
    base, ratio = _SIZED_AFTER.get(name, ("", 0.0))
    return round(sizes.get(base, 0) * ratio)


def counts(scale: float) -> dict[str, int]:
    """Rows per table at `scale`."""
    return {name: max(least, round(full * scale)) for name, (full, least) in SIZES.items()}


def has_data(url: str) -> bool:
    with session(url) as db:
        return bool(db.fetch("SELECT EXISTS (SELECT 1 FROM users)")[0][0])


def clear(db: Session) -> None:
    """Empty every table but alembic_version, restarting identities and every sequence."""
    schema = read_schema(db, ["public"])
    names = [t.name for t in schema.tables if t.name.name != "alembic_version"]
    db.execute(
        sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
            sql.SQL(", ").join(sql.Identifier(n.schema, n.name) for n in names)
        )
    )
    # RESTART IDENTITY skips sequences no column owns (content_items_id_seq feeds both
    # partitions), which would keep a larger scale's value after a --replace.
    db.execute(
        "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
        " FROM pg_sequences WHERE schemaname = 'public'"
    )


def generate_demo_data(
    url: str,
    scale: float,
    *,
    replace: bool = False,
    on_table: OnTable | None = None,
    on_start: OnStart | None = None,
) -> DemoDataReport:
    """Fill the app's (empty, or with `replace` emptied) tables with demo data at `scale`.

    Example: `generate_demo_data("postgresql:///genonaut_demo", 0.01)`.
    `on_start` hears of each table before it is filled, with an estimate of the time left
    (rows still to write at the pace so far); `on_table` after, with its rows and seconds.
    """
    started = time.perf_counter()
    report = DemoDataReport(scale)
    sizes = counts(scale)
    with session(url) as db:
        db.execute("SET LOCAL synchronous_commit = off")
        if replace:
            clear(db)
        db.execute(_FUNCTIONS)
        shown = [name for name, _ in _STATEMENTS if not name.startswith("far_")]
        weight = {name: expected_rows(name, sizes) for name in shown}
        done = 0
        filling = time.perf_counter()
        for name, statement in _STATEMENTS:
            began = time.perf_counter()
            if on_start is not None and name in weight:
                pace = (began - filling) / done if done else None
                left = None if pace is None else pace * (sum(weight.values()) - done)
                on_start(name, shown.index(name) + 1, len(shown), weight[name], left)
            rows = db.execute(_with_params(statement), sizes)
            done += weight.get(name, 0)
            seconds = time.perf_counter() - began
            if not name.startswith("far_"):
                report.tables.append((name, rows, seconds))
                if on_table is not None:
                    on_table(name, rows, seconds)
        schema = read_schema(db, ["public"])
        advance_sequences(db, schema, schema.data_tables)
        db.conn.commit()
        db.conn.autocommit = True
        db.execute("ANALYZE")
    report.seconds = time.perf_counter() - started
    return report
