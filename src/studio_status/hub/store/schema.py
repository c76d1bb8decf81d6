"""Versioned SQLite migrations; ``PRAGMA user_version`` holds the applied version.

The tables follow seed 001 (``health_checks``, ``uptime_records``) with ``unknown`` allowed,
timestamps as UTC epoch seconds (REAL) so range queries and rollups are plain arithmetic,
and a partial unique index that makes "exactly one open window per service" a database
rule rather than a hope.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[str] = [
    # 1: health core
    """
    CREATE TABLE health_checks (
        id INTEGER PRIMARY KEY,
        service_name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('healthy', 'degraded', 'down', 'unknown')),
        latency_ms INTEGER,
        error_message TEXT,
        details_json TEXT,
        checked_at REAL NOT NULL
    );
    CREATE INDEX idx_health_checks_checked_at ON health_checks(checked_at);
    CREATE INDEX idx_health_checks_service_checked ON health_checks(service_name, checked_at DESC);

    CREATE TABLE uptime_records (
        id INTEGER PRIMARY KEY,
        service_name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('healthy', 'degraded', 'down', 'unknown')),
        started_at REAL NOT NULL,
        ended_at REAL,
        duration_seconds INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX idx_uptime_records_service_started ON uptime_records(service_name, started_at);
    CREATE UNIQUE INDEX ux_uptime_records_open ON uptime_records(service_name)
        WHERE ended_at IS NULL;

    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        topic TEXT,
        ts REAL NOT NULL,
        data_json TEXT NOT NULL
    );

    CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'creator', 'reviewer')),
        secret_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: jobs and workflows (latest state of each; finished ones kept for the feed)
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        updated_at REAL NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE INDEX idx_jobs_status_updated ON jobs(status, updated_at);

    CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        updated_at REAL NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE INDEX idx_workflows_status_updated ON workflows(status, updated_at);
    """,
    # 3: uptime rollups (seconds per state per bucket) and the spans the hub was running
    """
    CREATE TABLE uptime_rollups (
        service_name TEXT NOT NULL,
        resolution INTEGER NOT NULL,
        bucket_start INTEGER NOT NULL,
        healthy_s REAL NOT NULL DEFAULT 0,
        degraded_s REAL NOT NULL DEFAULT 0,
        down_s REAL NOT NULL DEFAULT 0,
        unknown_s REAL NOT NULL DEFAULT 0,
        maintenance_s REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (service_name, resolution, bucket_start)
    ) WITHOUT ROWID;
    CREATE INDEX idx_uptime_rollups_range ON uptime_rollups(resolution, bucket_start);

    CREATE TABLE hub_runs (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        alive_at REAL NOT NULL
    );
    CREATE INDEX idx_hub_runs_alive ON hub_runs(alive_at);
    CREATE INDEX idx_uptime_records_ended ON uptime_records(ended_at);
    """,
    # 4: cloud GPU spend and cost-rate series; external systems' snapshots (seed 004), one
    # row per (system, timestamp) and per (system, timestamp, component), outages, reservations
    """
    CREATE TABLE cloud_spend (day TEXT PRIMARY KEY, units INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE cloud_rate (
        at REAL PRIMARY KEY,
        cost_per_hour_cents INTEGER NOT NULL,
        active_pods INTEGER NOT NULL
    );
    CREATE TABLE cloud_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE system_snapshots (
        id INTEGER PRIMARY KEY,
        system TEXT NOT NULL,
        timestamp REAL NOT NULL,
        received_at REAL NOT NULL,
        availability TEXT NOT NULL,
        status TEXT NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE UNIQUE INDEX ux_system_snapshots ON system_snapshots(system, timestamp);
    CREATE INDEX idx_system_snapshots_timestamp ON system_snapshots(timestamp);

    CREATE TABLE system_components (
        id INTEGER PRIMARY KEY,
        system TEXT NOT NULL,
        timestamp REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('login_node', 'compute', 'queue', 'filesystem')),
        name TEXT NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE UNIQUE INDEX ux_system_components ON system_components(system, timestamp, kind, name);
    CREATE INDEX idx_system_components_series ON system_components(system, kind, name, timestamp);
    CREATE INDEX idx_system_components_timestamp ON system_components(timestamp);

    CREATE TABLE system_outages (
        id TEXT PRIMARY KEY,
        system TEXT NOT NULL,
        status TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL,
        updated_at REAL NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE INDEX idx_system_outages_system ON system_outages(system, status);

    CREATE TABLE system_reservations (
        system TEXT NOT NULL,
        name TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL NOT NULL,
        data_json TEXT NOT NULL,
        PRIMARY KEY (system, name)
    ) WITHOUT ROWID;
    CREATE INDEX idx_system_reservations_end ON system_reservations(end_time);
    """,
    # 5: health operations (seed 001): audit trail, alert configs, alert state, the webhook
    # outbox, mutes and maintenance windows
    """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        service TEXT,
        params_json TEXT NOT NULL DEFAULT '{}',
        result TEXT NOT NULL,
        detail_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX idx_audit_log_at ON audit_log(at);
    CREATE INDEX idx_audit_log_service ON audit_log(service, at);

    CREATE TABLE health_alert_configs (
        service_name TEXT PRIMARY KEY,
        escalation_delay_seconds INTEGER NOT NULL DEFAULT 300,
        webhook_url TEXT,
        notification_channels_json TEXT NOT NULL DEFAULT '["dashboard"]',
        enabled INTEGER NOT NULL DEFAULT 1,
        data_json TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );

    CREATE TABLE alert_state (
        service_name TEXT PRIMARY KEY,
        data_json TEXT NOT NULL,
        updated_at REAL NOT NULL
    );

    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL,
        service_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        url TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        sent_at REAL,
        failed_at REAL,
        last_error TEXT
    );
    CREATE INDEX idx_alert_outbox_due ON alert_outbox(next_attempt_at)
        WHERE sent_at IS NULL AND failed_at IS NULL;

    CREATE TABLE alert_mutes (
        scope TEXT PRIMARY KEY,
        until_at REAL,
        reason TEXT,
        set_by TEXT NOT NULL,
        set_at REAL NOT NULL
    );

    CREATE TABLE maintenance_windows (
        id TEXT PRIMARY KEY,
        service_name TEXT,
        start_at REAL NOT NULL,
        end_at REAL NOT NULL,
        every_seconds REAL,
        until_at REAL,
        reason TEXT,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 6: studio pulse (seed 002): the activity feed, and each token's dashboard document
    """
    CREATE TABLE activity_feed (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        category TEXT NOT NULL,
        project_id TEXT,
        admin_only INTEGER NOT NULL DEFAULT 0,
        data_json TEXT NOT NULL
    );
    CREATE INDEX idx_activity_feed_category ON activity_feed(category, id);
    CREATE INDEX idx_activity_feed_project ON activity_feed(project_id, id);

    CREATE TABLE user_dashboards (
        token_id TEXT PRIMARY KEY,
        data_json TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 7: the webhook outbox is claimed before a send (claimed_until), so several hubs on one
    # database send each notice once
    """
    ALTER TABLE alert_outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE alert_outbox ADD COLUMN claimed_until REAL;
    """,
]
