-- wrk: POST one fixed JSON body.  Env: BENCH_BODY_FILE, BENCH_HEADERS
-- ("Name: value" lines).  Prints a JSON summary line in done().
local function readfile(p)
	local f = assert(io.open(p, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

wrk.method = "POST"
wrk.body = readfile(os.getenv("BENCH_BODY_FILE"))
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
	local k, v = line:match("^([^:]+):%s*(.*)$")
	if k then wrk.headers[k] = v end
end

done = dofile(os.getenv("BENCH_DIR") .. "/summary.lua")
