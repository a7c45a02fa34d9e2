-- POSTs one GraphQL request (the JSON in $BODY_FILE) over and over, with
-- `Authorization: Bearer $BEARER` when that is set, and
-- counts the answers that were not a clean success: a status other than
-- 200, or a body with "errors" (GraphQL errors come back with status 200).
local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
-- A signed-in reader sends its token with every request.
local bearer = os.getenv("BEARER")
if bearer and bearer ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. bearer
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
  sample = ""
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failed = failed + 1
    if sample == "" then sample = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local failed_total, sample_any = 0, ""
  for _, thread in ipairs(threads) do
    failed_total = failed_total + thread:get("failed")
    local s = thread:get("sample")
    if sample_any == "" and s ~= "" then sample_any = s end
  end
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d failed=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, failed_total, socket_errors))
  if sample_any ~= "" then io.write("FAILED_SAMPLE " .. sample_any .. "\n") end
end
