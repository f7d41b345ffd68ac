-- wrk: GET with headers from BENCH_HEADERS ("Name: value" lines).
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
	local k, v = line:match("^([^:]+):%s*(.*)$")
	if k then wrk.headers[k] = v end
end

done = dofile(os.getenv("BENCH_DIR") .. "/summary.lua")
