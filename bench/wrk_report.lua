-- wrk script for bench/load.py: sets the method from BENCH_METHOD (GET when unset), counts
-- answers other than 200 (wrk itself counts only 4xx and 5xx; a redirect to the sign-in page
-- must not pass for a page) and, when wrk finishes, prints one line "BENCH_JSON {...}".
local method = os.getenv("BENCH_METHOD")
if method and method ~= "" then
  wrk.method = method
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local not_200 = 0
  for _, thread in ipairs(threads) do
    not_200 = not_200 + (thread:get("not_ok") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, not_200,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
