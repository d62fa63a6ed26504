-- wrk script of the catalogue load test (bench/run.py): a mix of public pages, JSON summary at the end.
local formations = {}
for id in string.gmatch(os.getenv("BENCH_FORMATIONS") or "1", "%d+") do
  table.insert(formations, id)
end
local keywords = {"logistique", "infirmier", "soudage", "cuisine", "comptabilite", "anglais", "vente", "securite"}
local departements = {"44", "49", "53", "72", "85"}

math.randomseed(os.time())

request = function()
  local pick = math.random(100)
  local formation = formations[math.random(#formations)]
  local keyword = keywords[math.random(#keywords)]
  local departement = departements[math.random(#departements)]
  local path
  if pick <= 40 then
    path = "/formations/" .. formation
  elseif pick <= 70 then
    path = "/formations?q=" .. keyword .. "&departement=" .. departement .. "&modalite=0"
  elseif pick <= 90 then
    path = "/api/v1/formations/" .. formation
  else
    path = "/api/v1/formations?q=" .. keyword .. "&departement=" .. departement .. "&facettes=non"
  end
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH_WRK {"requests": %d, "rps": %.1f, "p50": %.1f, "p95": %.1f, "p99": %.1f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors, summary.errors.status))
end
