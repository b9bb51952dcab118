-- wrk script: each request carries the next token of the file named by BENCH_TOKENS,
-- round robin, so a cell can rotate through 1,000 distinct tokens.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if line ~= "" then tokens[#tokens + 1] = "Bearer " .. line end
end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/hello", { Authorization = tokens[i] })
end
