-- First start of the `db` service only (postgres image, /docker-entrypoint-initdb.d), as the
-- superuser. Passwords come from the service's environment (psql's \getenv).
--
--   leadcrm      owns the database, schema and tables; used only by the one-shot `migrate`.
--   leadcrm_app  what web, worker and beat log in as: no ownership, no superuser, no
--                BYPASSRLS, so PostgreSQL row-level security confines every query to its tenant.

\set ON_ERROR_STOP on
\getenv owner_password LEADCRM_OWNER_PASSWORD
\getenv app_password LEADCRM_APP_PASSWORD

CREATE ROLE leadcrm LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
CREATE ROLE leadcrm_app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
-- The owner may SET ROLE leadcrm_app (migrations check for this membership and grant DML).
GRANT leadcrm_app TO leadcrm;

CREATE DATABASE leadcrm OWNER leadcrm ENCODING 'UTF8' TEMPLATE template0;

\connect leadcrm
-- Extensions the migrations use; created here as superuser so the owner needs no extra rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
-- LIKE, numeric comparisons and array containment raise no data-dependent errors; LEAKPROOF
-- lets the planner use the trigram, bigram and score indexes under row-level security (see
-- leads/migrations/0002 and 0005).
ALTER FUNCTION pg_catalog.textlike(text, text) LEAKPROOF;
ALTER FUNCTION pg_catalog.textnlike(text, text) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_eq(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_ne(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_lt(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_le(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_gt(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_ge(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.numeric_cmp(numeric, numeric) LEAKPROOF;
ALTER FUNCTION pg_catalog.arraycontains(anyarray, anyarray) LEAKPROOF;
