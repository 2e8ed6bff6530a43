-- The id of the HTTP request that started a saga (X-Request-Id, a traceparent's
-- trace-id, or one the service made up), so that every step, the RPC requests
-- and the events carry it, also after a restart or on another instance. Sagas
-- recorded before have none. (An outbox row's envelope carries it as
-- `request_id`.)
ALTER TABLE sagas ADD COLUMN request_id text CHECK (length(request_id) BETWEEN 1 AND 200);
