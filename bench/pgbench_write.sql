-- pgbench's yardstick for a transition: one UPDATE and one INSERT in one transaction, on the
-- tables of bench/baseline_app.py (1000 counters, so clients rarely wait on each other's rows).
\set id random(1, 1000)
BEGIN;
UPDATE bench_counter SET n = n + 1 WHERE id = :id;
INSERT INTO bench_log (counter_id) VALUES (:id);
END;
