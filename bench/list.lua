-- list.lua: wrk sends the requests of the file $BENCH_LIST in turn, one
-- line each: METHOD TAB PATH TAB TOKEN [TAB BODY]. The threads share the
-- lines out (line i goes to thread i mod threads), so that a list of
-- one-time requests (fresh code records) is used once; a thread that runs
-- out of lines starts again and counts the wraps, printed at the end.
local threads = {}
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local reqs = {}
local pos = 0
wraps = 0

function init(args)
	local path = os.getenv("BENCH_LIST")
	local lines = {}
	for line in io.lines(path) do
		lines[#lines + 1] = line
	end
	for i, line in ipairs(lines) do
		-- a list shorter than the threads goes to every thread whole
		if #lines < nthreads or (i - 1) % nthreads == tid then
			local method, p, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
			local headers = {}
			if token ~= "" then
				headers["Authorization"] = "Bearer " .. token
			end
			if body ~= "" then
				headers["Content-Type"] = "application/json"
			else
				body = nil
			end
			reqs[#reqs + 1] = wrk.format(method, p, headers, body)
		end
	end
	if #reqs == 0 then
		error("no requests for thread " .. tid .. " in " .. path)
	end
end

function request()
	pos = pos + 1
	if pos > #reqs then
		pos = 1
		wraps = wraps + 1
	end
	return reqs[pos]
end

function done(summary, latency, requests)
	local w = 0
	for _, t in ipairs(threads) do
		w = w + (t:get("wraps") or 0)
	end
	io.write(string.format("list-wraps: %d\n", w))
end
