"""The app's tables, as SQLAlchemy models.

`content_items_all` is partitioned by `source_type` into `content_items` ('regular') and
`content_items_auto` ('auto'); SQLAlchemy cannot declare partitions, so `PARTITION_DDL` creates
them, and the foreign keys that point at one partition, after `metadata.create_all`.
`content_tags.content_id` points at one partition or the other depending on `content_source`:
no constraint declares it (config/seed-export.json does, for the seed tools).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

JOB_STATUS = Enum("pending", "running", "completed", "failed", name="job_status")
CONTENT_ID_SEQ = Sequence("content_items_id_seq", metadata=metadata)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(255), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default="true"),
    Column("preferences", JSONB, nullable=False, server_default="{}"),
    Column("favorite_tag_ids", ARRAY(UUID(as_uuid=True)), nullable=True),
    _created(),
)

tags = Table(
    "tags",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("name", String(100), nullable=False, unique=True),
    Column("tag_metadata", JSONB, nullable=True),
    _created(),
)

tag_parents = Table(
    "tag_parents",
    metadata,
    Column("tag_id", UUID(as_uuid=True), ForeignKey("tags.id"), primary_key=True),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("tags.id"), primary_key=True, index=True),
    CheckConstraint("tag_id <> parent_id", name="tag_parents_not_self"),
)

tag_ratings = Table(
    "tag_ratings",
    metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True),
    Column("tag_id", UUID(as_uuid=True), ForeignKey("tags.id"), primary_key=True, index=True),
    Column("rating", Numeric(3, 1), nullable=False),
    _created(),
)

content_items_all = Table(
    "content_items_all",
    metadata,
    Column("id", Integer, CONTENT_ID_SEQ, server_default=CONTENT_ID_SEQ.next_value()),
    Column("source_type", String(16), nullable=False),
    Column("creator_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("item_metadata", JSONB, nullable=False, server_default="{}"),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("path_thumb", Text, nullable=True),
    Column("quality_score", Numeric(5, 4), nullable=True),
    Column("is_private", Boolean, nullable=False, server_default="false"),
    _created(),
    PrimaryKeyConstraint("id", "source_type"),
    postgresql_partition_by="LIST (source_type)",
)


def _sidecar(name: str, partition: str) -> Table:
    """A 1:1 extension of one partition: its primary key is its foreign key."""
    return Table(
        name,
        metadata,
        # Not a serial: the id is the item's, never drawn from a sequence of its own.
        Column("content_id", Integer, primary_key=True, autoincrement=False),
        Column("prompt", Text, nullable=False),
        Column("seed", BigInteger, nullable=True),
        Column("thumbnail", LargeBinary, nullable=True),
        info={"references": (partition, "content_id")},
    )


content_items_ext = _sidecar("content_items_ext", "content_items")
content_items_auto_ext = _sidecar("content_items_auto_ext", "content_items_auto")

content_tags = Table(
    "content_tags",
    metadata,
    Column("content_id", Integer, nullable=False),
    Column("content_source", String(16), nullable=False),
    Column("tag_id", UUID(as_uuid=True), ForeignKey("tags.id"), nullable=False, index=True),
    PrimaryKeyConstraint("content_id", "content_source", "tag_id"),
    CheckConstraint("content_source IN ('regular', 'auto')", name="content_tags_source"),
)

bookmarks = Table(
    "bookmarks",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("content_id", Integer, nullable=False),
    Column("content_source_type", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("pinned", Boolean, nullable=False, server_default="false"),
    _created(),
    ForeignKeyConstraint(
        ["content_id", "content_source_type"],
        ["content_items_all.id", "content_items_all.source_type"],
        name="bookmarks_content_fkey",
    ),
    UniqueConstraint("id", "user_id", name="bookmarks_id_user_key"),
    Index("ix_bookmarks_content", "content_id", "content_source_type"),
)

bookmark_categories = Table(
    "bookmark_categories",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column(
        "parent_id",
        UUID(as_uuid=True),
        ForeignKey("bookmark_categories.id"),
        nullable=True,
        index=True,
    ),
    _created(),
    UniqueConstraint("id", "user_id", name="bookmark_categories_id_user_key"),
)

bookmark_category_members = Table(
    "bookmark_category_members",
    metadata,
    Column("bookmark_id", UUID(as_uuid=True), nullable=False),
    Column("category_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("bookmark_id", "category_id"),
    ForeignKeyConstraint(
        ["bookmark_id", "user_id"],
        ["bookmarks.id", "bookmarks.user_id"],
        name="members_bookmark_fkey",
    ),
    ForeignKeyConstraint(
        ["category_id", "user_id"],
        ["bookmark_categories.id", "bookmark_categories.user_id"],
        name="members_category_fkey",
    ),
)

generation_jobs = Table(
    "generation_jobs",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("content_id", Integer, nullable=True, index=True),
    Column("status", JOB_STATUS, nullable=False, server_default="pending"),
    Column("params", JSONB, nullable=False, server_default="{}"),
    Column("error_message", Text, nullable=True),
    _created(),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    info={"references": ("content_items", "content_id")},
)

user_notifications = Table(
    "user_notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column(
        "related_job_id", BigInteger, ForeignKey("generation_jobs.id"), nullable=True, index=True
    ),
    Column("related_content_id", Integer, nullable=True, index=True),
    Column("message", Text, nullable=False),
    Column("read", Boolean, nullable=False, server_default="false"),
    _created(),
    info={"references": ("content_items", "related_content_id")},
)

user_search_history = Table(
    "user_search_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("query", Text, nullable=False),
    Column("result_count", Integer, nullable=True),
    _created(),
)

user_interactions = Table(
    "user_interactions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("content_id", Integer, nullable=True, index=True),
    Column("interaction_type", String(32), nullable=False),
    Column("duration_ms", Integer, nullable=True),
    _created(),
    info={"references": ("content_items", "content_id")},
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("content_id", Integer, nullable=True, index=True),
    Column("score", Float, nullable=False),
    Column("algorithm", String(32), nullable=False),
    _created(),
    info={"references": ("content_items", "content_id")},
)

flagged_content = Table(
    "flagged_content",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("content_item_id", Integer, nullable=True, index=True),
    Column("content_item_auto_id", Integer, nullable=True, index=True),
    Column("creator_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False, index=True),
    Column("reviewed_by", UUID(as_uuid=True), ForeignKey("users.id"), nullable=True, index=True),
    Column("reason", Text, nullable=False),
    Column("risk_score", Numeric(5, 2), nullable=False),
    _created(),
)

available_models = Table(
    "available_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("family", String(50), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default="true"),
)

models_checkpoints = Table(
    "models_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("available_models.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
)

models_loras = Table(
    "models_loras",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "checkpoint_id", Integer, ForeignKey("models_checkpoints.id"), nullable=False, index=True
    ),
    Column("name", String(100), nullable=False),
    Column("strength", Numeric(3, 2), nullable=False, server_default="1.0"),
    Column("trigger_words", ARRAY(Text), nullable=True),
)

generation_events = Table(
    "generation_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=True, index=True),
    Column("job_id", BigInteger, ForeignKey("generation_jobs.id"), nullable=True, index=True),
    Column("event_type", String(32), nullable=False),
    Column("payload", JSONB, nullable=True),
    _created(),
)

generation_metrics_hourly = Table(
    "generation_metrics_hourly",
    metadata,
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("model_name", String(100), nullable=False),
    Column("total", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column(
        "success_rate",
        Numeric(5, 4),
        Computed("succeeded::numeric / greatest(total, 1)", persisted=True),
    ),
    PrimaryKeyConstraint("hour", "model_name"),
)

# Raw request log: no primary key at all.
route_analytics = Table(
    "route_analytics",
    metadata,
    Column("route", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("status", Integer, nullable=False),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=True, index=True),
    Column("duration_ms", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

route_analytics_hourly = Table(
    "route_analytics_hourly",
    metadata,
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("route", String(200), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("p95_ms", Integer, nullable=True),
    PrimaryKeyConstraint("hour", "route"),
)

gen_source_stats = Table(
    "gen_source_stats",
    metadata,
    Column("source_type", String(16), primary_key=True),
    Column("items", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tag_cardinality_stats = Table(
    "tag_cardinality_stats",
    metadata,
    Column("tag_id", UUID(as_uuid=True), ForeignKey("tags.id"), primary_key=True),
    Column("cardinality", Integer, nullable=False),
)

alembic_version = Table(
    "alembic_version",
    metadata,
    Column("version_num", String(32), primary_key=True),
)

ALEMBIC_REVISION = "b7e2c41d9f03"

# Partitions, and the foreign keys to a single partition, which need the partition to exist.
PARTITION_DDL = [
    "CREATE TABLE content_items PARTITION OF content_items_all FOR VALUES IN ('regular')",
    "CREATE TABLE content_items_auto PARTITION OF content_items_all FOR VALUES IN ('auto')",
    "CREATE UNIQUE INDEX content_items_id_key ON content_items (id)",
    "CREATE UNIQUE INDEX content_items_auto_id_key ON content_items_auto (id)",
    "ALTER TABLE content_items_ext ADD CONSTRAINT content_items_ext_content_fkey "
    "FOREIGN KEY (content_id) REFERENCES content_items (id)",
    "ALTER TABLE content_items_auto_ext ADD CONSTRAINT content_items_auto_ext_content_fkey "
    "FOREIGN KEY (content_id) REFERENCES content_items_auto (id)",
    "ALTER TABLE generation_jobs ADD CONSTRAINT generation_jobs_content_fkey "
    "FOREIGN KEY (content_id) REFERENCES content_items (id)",
    "ALTER TABLE user_notifications ADD CONSTRAINT user_notifications_content_fkey "
    "FOREIGN KEY (related_content_id) REFERENCES content_items (id)",
    "ALTER TABLE user_interactions ADD CONSTRAINT user_interactions_content_fkey "
    "FOREIGN KEY (content_id) REFERENCES content_items (id)",
    "ALTER TABLE recommendations ADD CONSTRAINT recommendations_content_fkey "
    "FOREIGN KEY (content_id) REFERENCES content_items (id)",
    "ALTER TABLE flagged_content ADD CONSTRAINT flagged_content_item_fkey "
    "FOREIGN KEY (content_item_id) REFERENCES content_items (id)",
    "ALTER TABLE flagged_content ADD CONSTRAINT flagged_content_auto_fkey "
    "FOREIGN KEY (content_item_auto_id) REFERENCES content_items_auto (id)",
    "CREATE INDEX ix_content_items_created ON content_items_all (created_at)",
    "CREATE INDEX ix_content_tags_content ON content_tags (content_id, content_source)",
]
