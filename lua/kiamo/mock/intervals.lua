-- kiamo.mock.intervals: a set of planned minutes kept as sorted, disjoint,
-- non-touching half-open runs in a flat list {start1, stop1, start2, ...},
-- so that a week-long period costs two numbers, not 672 quarter hours.

local intervals = {}

--- The list with [start, stop) added; runs that overlap or touch merge.
function intervals.add(list, start, stop)
  local out, n = {}, 0
  local i, count = 1, #list
  while i < count and list[i + 1] < start do
    out[n + 1], out[n + 2] = list[i], list[i + 1]
    n, i = n + 2, i + 2
  end
  while i < count and list[i] <= stop do
    if list[i] < start then start = list[i] end
    if list[i + 1] > stop then stop = list[i + 1] end
    i = i + 2
  end
  out[n + 1], out[n + 2] = start, stop
  n = n + 2
  while i < count do
    out[n + 1], out[n + 2] = list[i], list[i + 1]
    n, i = n + 2, i + 2
  end
  return out
end

--- The list with [start, stop) removed.
function intervals.remove(list, start, stop)
  local out, n = {}, 0
  for i = 1, #list, 2 do
    local first, last = list[i], list[i + 1]
    if last <= start or first >= stop then
      out[n + 1], out[n + 2] = first, last
      n = n + 2
    else
      if first < start then
        out[n + 1], out[n + 2] = first, start
        n = n + 2
      end
      if last > stop then
        out[n + 1], out[n + 2] = stop, last
        n = n + 2
      end
    end
  end
  return out
end

--- Calls visit(first, last) for each run overlapping [start, stop),
-- clipped to it, in order.
function intervals.each_overlap(list, start, stop, visit)
  for i = 1, #list, 2 do
    local first, last = list[i], list[i + 1]
    if first >= stop then return end
    if last > start then
      visit(first < start and start or first, last > stop and stop or last)
    end
  end
end

return intervals
