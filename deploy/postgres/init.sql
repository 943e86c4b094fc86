-- One database and two login roles per service, as scripts/lib/infra.sh pg_provision makes them locally: the
-- migration role (orderflow_<service>_migrator) owns the database and what its migrations create; the service's own
-- role (orderflow_<service>) gets only rows, granted by the migrate step (ADR 0017), and cannot connect to another
-- service's database. Run once by the postgres image on an empty data directory; the passwords come from the
-- container's environment (psql's \getenv), never from this file.
\set ON_ERROR_STOP on

\getenv order_password ORDER_DB_PASSWORD
\getenv order_migrator_password ORDER_DB_MIGRATOR_PASSWORD
\getenv payment_password PAYMENT_DB_PASSWORD
\getenv payment_migrator_password PAYMENT_DB_MIGRATOR_PASSWORD
\getenv warehouse_password WAREHOUSE_DB_PASSWORD
\getenv warehouse_migrator_password WAREHOUSE_DB_MIGRATOR_PASSWORD
\getenv logistics_password LOGISTICS_DB_PASSWORD
\getenv logistics_migrator_password LOGISTICS_DB_MIGRATOR_PASSWORD
\getenv saga_password SAGA_DB_PASSWORD
\getenv saga_migrator_password SAGA_DB_MIGRATOR_PASSWORD

CREATE ROLE orderflow_order LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'order_password';
CREATE ROLE orderflow_order_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'order_migrator_password';
CREATE DATABASE orderflow_order OWNER orderflow_order_migrator;
REVOKE ALL ON DATABASE orderflow_order FROM PUBLIC;

CREATE ROLE orderflow_payment LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'payment_password';
CREATE ROLE orderflow_payment_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'payment_migrator_password';
CREATE DATABASE orderflow_payment OWNER orderflow_payment_migrator;
REVOKE ALL ON DATABASE orderflow_payment FROM PUBLIC;

CREATE ROLE orderflow_warehouse LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'warehouse_password';
CREATE ROLE orderflow_warehouse_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'warehouse_migrator_password';
CREATE DATABASE orderflow_warehouse OWNER orderflow_warehouse_migrator;
REVOKE ALL ON DATABASE orderflow_warehouse FROM PUBLIC;

CREATE ROLE orderflow_logistics LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'logistics_password';
CREATE ROLE orderflow_logistics_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'logistics_migrator_password';
CREATE DATABASE orderflow_logistics OWNER orderflow_logistics_migrator;
REVOKE ALL ON DATABASE orderflow_logistics FROM PUBLIC;

CREATE ROLE orderflow_saga LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'saga_password';
CREATE ROLE orderflow_saga_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'saga_migrator_password';
CREATE DATABASE orderflow_saga OWNER orderflow_saga_migrator;
REVOKE ALL ON DATABASE orderflow_saga FROM PUBLIC;

-- PUBLIC may connect to the server's own databases by default; only the administrator needs them.
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
