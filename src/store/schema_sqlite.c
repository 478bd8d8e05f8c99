/*
 * schema_sqlite.c - the SQLite schema, as forward-only migrations.
 *
 * Version 1 is the seed note's three tables, corrected as SPEC.md section 6
 * says: CREATE INDEX instead of inline INDEX, no ON DELETE CASCADE from
 * usage to promotions (no foreign key at all: usage outlives promotions),
 * code unique per (store_id, code), plus the note's extra indexes and its
 * active_promotions view. Version 2 adds the edge's own bookkeeping: usage
 * voiding and reporting, one use per (transaction, promotion), skipped
 * counts in the sync log, holidays, the sync cursor and stored checkouts.
 * Column names, types and forms stay those of the note: other store
 * software reads this file with the sqlite3 shell. schema_postgres.c has
 * the same versions for PostgreSQL: a new version goes into both lists
 * (store_schema_latest() asserts they have the same length).
 */
#include "store/internal.h"

static const char schema_v1[] =
    "CREATE TABLE promotions (\n"
    "    id VARCHAR(36) PRIMARY KEY,\n"
    "    code VARCHAR(50) NOT NULL,\n"
    "    name VARCHAR(255) NOT NULL,\n"
    "    description TEXT,\n"
    "    terms_conditions TEXT,\n"
    "    company_id VARCHAR(36) NOT NULL,\n"
    "    brand_id VARCHAR(36) NOT NULL,\n"
    "    store_id VARCHAR(36) NOT NULL,\n"
    "    promo_type VARCHAR(50) NOT NULL,\n"
    "    apply_to VARCHAR(20) NOT NULL,\n"
    "    execution_stage VARCHAR(20) NOT NULL,\n"
    "    execution_priority INTEGER DEFAULT 500,\n"
    "    is_active BOOLEAN DEFAULT TRUE,\n"
    "    is_auto_apply BOOLEAN DEFAULT FALSE,\n"
    "    require_voucher BOOLEAN DEFAULT FALSE,\n"
    "    member_only BOOLEAN DEFAULT FALSE,\n"
    "    is_stackable BOOLEAN DEFAULT FALSE,\n"
    "    start_date DATE NOT NULL,\n"
    "    end_date DATE NOT NULL,\n"
    "    time_start TIME,\n"
    "    time_end TIME,\n"
    "    valid_days TEXT,\n"
    "    exclude_holidays BOOLEAN DEFAULT FALSE,\n"
    "    rules_json TEXT NOT NULL,\n"
    "    scope_json TEXT,\n"
    "    targeting_json TEXT,\n"
    "    max_uses INTEGER,\n"
    "    max_uses_per_customer INTEGER,\n"
    "    max_uses_per_day INTEGER,\n"
    "    current_uses INTEGER DEFAULT 0,\n"
    "    compiled_at TIMESTAMP NOT NULL,\n"
    "    synced_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,\n"
    "    last_used_at TIMESTAMP,\n"
    "    UNIQUE (store_id, code)\n"
    ");\n"
    "CREATE INDEX idx_company_store ON promotions(company_id, store_id);\n"
    "CREATE INDEX idx_brand ON promotions(brand_id);\n"
    "CREATE INDEX idx_active_dates ON promotions(is_active, start_date,"
    " end_date);\n"
    "CREATE INDEX idx_promo_type ON promotions(promo_type);\n"
    "CREATE INDEX idx_code ON promotions(code);\n"
    "CREATE INDEX idx_active_lookup ON promotions(company_id, store_id,"
    " brand_id, is_active, start_date, end_date);\n"
    "CREATE INDEX idx_execution ON promotions(execution_stage,"
    " execution_priority) WHERE is_active = TRUE;\n"
    "CREATE VIEW active_promotions AS\n"
    "SELECT *\n"
    "FROM promotions\n"
    "WHERE is_active = TRUE\n"
    "  AND start_date <= CURRENT_DATE\n"
    "  AND end_date >= CURRENT_DATE;\n"
    "CREATE TABLE promotion_usage (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    promotion_id VARCHAR(36) NOT NULL,\n"
    "    promotion_code VARCHAR(50) NOT NULL,\n"
    "    transaction_id VARCHAR(36) NOT NULL,\n"
    "    order_number VARCHAR(50),\n"
    "    customer_id VARCHAR(36),\n"
    "    customer_phone VARCHAR(20),\n"
    "    member_tier VARCHAR(50),\n"
    "    discount_amount DECIMAL(15,2) NOT NULL,\n"
    "    original_amount DECIMAL(15,2) NOT NULL,\n"
    "    final_amount DECIMAL(15,2) NOT NULL,\n"
    "    brand_id VARCHAR(36) NOT NULL,\n"
    "    store_id VARCHAR(36) NOT NULL,\n"
    "    used_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,\n"
    "    usage_date DATE NOT NULL\n"
    ");\n"
    "CREATE INDEX idx_promotion_usage ON promotion_usage(promotion_id,"
    " usage_date);\n"
    "CREATE INDEX idx_customer_usage ON promotion_usage(promotion_id,"
    " customer_id, usage_date);\n"
    "CREATE INDEX idx_transaction ON promotion_usage(transaction_id);\n"
    "CREATE TABLE promotion_sync_log (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    sync_type VARCHAR(20) NOT NULL,\n"
    "    sync_status VARCHAR(20) NOT NULL,\n"
    "    promotions_received INTEGER DEFAULT 0,\n"
    "    promotions_added INTEGER DEFAULT 0,\n"
    "    promotions_updated INTEGER DEFAULT 0,\n"
    "    promotions_deleted INTEGER DEFAULT 0,\n"
    "    company_id VARCHAR(36) NOT NULL,\n"
    "    store_id VARCHAR(36) NOT NULL,\n"
    "    error_message TEXT,\n"
    "    error_details TEXT,\n"
    "    started_at TIMESTAMP NOT NULL,\n"
    "    completed_at TIMESTAMP,\n"
    "    duration_seconds INTEGER,\n"
    "    cms_version VARCHAR(20),\n"
    "    edge_version VARCHAR(20)\n"
    ");\n"
    "CREATE INDEX idx_sync_date ON promotion_sync_log(started_at);\n"
    "CREATE INDEX idx_sync_status ON promotion_sync_log(sync_status);\n";

static const char schema_v2[] =
    "ALTER TABLE promotion_usage ADD COLUMN voided_at TIMESTAMP;\n"
    "ALTER TABLE promotion_usage ADD COLUMN reported_at TIMESTAMP;\n"
    "CREATE UNIQUE INDEX idx_usage_transaction_promotion ON"
    " promotion_usage(transaction_id, promotion_id);\n"
    "ALTER TABLE promotion_sync_log ADD COLUMN promotions_skipped"
    " INTEGER DEFAULT 0;\n"
    "ALTER TABLE promotion_sync_log ADD COLUMN duration_ms INTEGER;\n"
    "CREATE TABLE holidays (\n"
    "    date DATE PRIMARY KEY,\n"
    "    name VARCHAR(255),\n"
    "    source VARCHAR(20) NOT NULL DEFAULT 'cms',\n"
    "    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n"
    ");\n"
    "CREATE TABLE sync_state (\n"
    "    company_id VARCHAR(36) NOT NULL,\n"
    "    store_id VARCHAR(36) NOT NULL,\n"
    "    cursor TEXT,\n"
    "    server_time TEXT,\n"
    "    last_success_at TIMESTAMP,\n"
    "    data_version INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (company_id, store_id)\n"
    ");\n"
    "CREATE TABLE pos_transactions (\n"
    "    transaction_id VARCHAR(64) PRIMARY KEY,\n"
    "    order_number VARCHAR(50),\n"
    "    store_id VARCHAR(36) NOT NULL,\n"
    "    brand_id VARCHAR(36) NOT NULL,\n"
    "    usage_date DATE NOT NULL,\n"
    "    response_json TEXT NOT NULL,\n"
    "    created_at TIMESTAMP NOT NULL,\n"
    "    voided_at TIMESTAMP,\n"
    "    void_response_json TEXT\n"
    ");\n"
    "CREATE INDEX idx_pos_transactions_date ON pos_transactions(usage_date);\n";

static const struct store_migration sqlite_migrations[] = {
    { 1, "seed tables, corrected (SPEC.md section 6)", schema_v1 },
    { 2, "usage voiding, holidays, sync state, checkouts", schema_v2 },
};

const struct store_migration *store_sqlite_migrations(size_t *count_out)
{
    *count_out = sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]);
    return sqlite_migrations;
}
