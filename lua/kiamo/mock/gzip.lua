-- kiamo.mock.gzip: wrap bytes in a valid gzip stream (RFC 1952) made of
-- stored deflate blocks (RFC 1951, no compression), with its CRC-32.
-- Enough for the emulator to answer Content-Encoding: gzip, so that a
-- client's decoding is tested; it makes nothing smaller.

local byte, char, concat, pack, sub =
  string.byte, string.char, table.concat, string.pack, string.sub

local gzip = {}

local LIMITS = {
  stored_block = 65535,  -- the most bytes one stored block holds
}

-- The gzip header: magic, deflate, no flags, no time, no extra flags,
-- operating system unknown.
local HEADER = char(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)

local crc_table = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    if c & 1 == 1 then
      c = 0xedb88320 ~ (c >> 1)
    else
      c = c >> 1
    end
  end
  crc_table[n] = c
end


-- The CRC-32 of data (the one gzip and zlib use), as an integer.
function gzip.crc32(data)
  local crc = 0xffffffff
  for i = 1, #data do
    crc = crc_table[(crc ~ byte(data, i)) & 0xff] ~ (crc >> 8)
  end
  return crc ~ 0xffffffff
end


-- The gzip stream of data.
function gzip.encode(data)
  local parts = {HEADER}
  local size = #data
  local first = 1
  repeat
    local last = math.min(first + LIMITS.stored_block - 1, size)
    local length = last - first + 1
    local final = last >= size and 1 or 0
    -- Block header: BFINAL, BTYPE 00 (stored), padded to the byte; then
    -- LEN and its one's complement, little-endian.
    parts[#parts + 1] = pack("<BI2I2", final, length, ~length & 0xffff)
    parts[#parts + 1] = sub(data, first, last)
    first = last + 1
  until first > size
  parts[#parts + 1] = pack("<I4I4", gzip.crc32(data), size & 0xffffffff)
  return concat(parts)
end


return gzip
