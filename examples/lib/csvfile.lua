-- csvfile: read and write the CSV files of the examples.
-- Fields are separated by commas; a field in double quotes may hold
-- commas, line breaks and doubled quotes (""), as spreadsheets write them.

local csvfile = {}


local function split_records(text, source)
  local records, problems, fields, field = {}, {}, {}, {}
  local line, record_line = 1, 1
  local pos, len = 1, #text
  local function end_field()
    fields[#fields + 1] = table.concat(field)
    field = {}
  end
  local function end_record()
    end_field()
    local blank = #fields == 1 and fields[1] == ""
    if fields.problem then
      problems[#problems + 1] = string.format("%s:%d: %s", source,
                                              record_line, fields.problem)
    elseif not blank then
      fields.line = record_line
      records[#records + 1] = fields
    end
    fields = {}
  end
  while pos <= len do
    local c = text:sub(pos, pos)
    if c == '"' and #field == 0 then
      local start_line = line
      local chunk_start = pos + 1
      pos = chunk_start
      while true do
        local quote = text:find('"', pos, true)
        if not quote then
          return nil, string.format("%s:%d: quoted field is not closed",
                                    source, start_line)
        end
        local chunk = text:sub(chunk_start, quote - 1)
        local _, breaks = chunk:gsub("\n", "")
        line = line + breaks
        field[#field + 1] = chunk
        if text:sub(quote + 1, quote + 1) == '"' then
          field[#field + 1] = '"'
          chunk_start = quote + 2
          pos = chunk_start
        else
          pos = quote + 1
          break
        end
      end
      local after = text:sub(pos, pos)
      if after ~= "," and after ~= "\n" and after ~= "\r" and after ~= "" then
        fields.problem = fields.problem or "text after a closing quote"
      end
    elseif c == "," then
      end_field()
      pos = pos + 1
    elseif c == "\r" or c == "\n" then
      end_record()
      if c == "\r" and text:sub(pos + 1, pos + 1) == "\n" then
        pos = pos + 1
      end
      pos = pos + 1
      line = line + 1
      record_line = line
    else
      local stop = text:find('[,\r\n]', pos) or len + 1
      local value = text:sub(pos, stop - 1)
      if value:find('"', 1, true) then
        fields.problem = fields.problem or "quote inside an unquoted field"
      end
      field[#field + 1] = value
      pos = stop
    end
  end
  if #field > 0 or #fields > 0 then
    end_record()
  end
  return records, problems
end


-- Parses CSV text. Returns a list of records, each a list of strings with
-- the number of the line where it starts in `line` (blank lines are
-- skipped), and a list of "source:line: message" for the malformed records
-- left out. Returns nil and such a message when a quoted field is never
-- closed, since nothing after it can be read.
function csvfile.parse(text, source)
  return split_records(text, source or "csv")
end


-- Reads a CSV file whose first record names the columns, and checks that
-- every column of `columns` is there. Returns the rows (tables keyed by
-- column name, with `line`) and a list of "path:line: message" for the
-- records left out: malformed, or with the wrong number of fields.
-- Returns nil and a message when the file cannot be read or split.
function csvfile.read(path, columns)
  local file, open_err = io.open(path, "rb")
  if not file then
    return nil, open_err
  end
  local text = file:read("a")
  file:close()
  text = text:gsub("^\239\187\191", "")
  local records, problems = split_records(text, path)
  if not records then
    return nil, problems
  end
  local header = table.remove(records, 1)
  if not header then
    return nil, path .. ": empty file, a header line is needed"
  end
  local index = {}
  for i, name in ipairs(header) do
    index[name:lower():match("^%s*(.-)%s*$")] = i
  end
  for _, name in ipairs(columns) do
    if not index[name] then
      return nil, string.format("%s:%d: column %q is missing from the header",
                                path, header.line, name)
    end
  end
  local rows = {}
  for _, record in ipairs(records) do
    if #record ~= #header then
      problems[#problems + 1] = string.format(
        "%s:%d: %d fields where the header has %d", path, record.line,
        #record, #header)
    else
      local row = {line = record.line}
      for name, i in pairs(index) do
        row[name] = record[i]
      end
      rows[#rows + 1] = row
    end
  end
  return rows, problems
end


-- Formats one record (a list of strings or numbers), quoting the fields
-- that need it, without the line break.
function csvfile.format(fields)
  local out = {}
  for i, value in ipairs(fields) do
    value = tostring(value)
    if value:find('[,"\r\n]') or value:match("^%s") or value:match("%s$")
    then
      value = '"' .. value:gsub('"', '""') .. '"'
    end
    out[i] = value
  end
  return table.concat(out, ",")
end


-- Replaces the file at `path` by `text` through a temporary file renamed
-- over it, so that a reader, or a run interrupted half-way, sees either
-- the old file or the new one, never a part. Returns true, or nil and a
-- message.
function csvfile.replace(path, text)
  local temporary = path .. ".tmp"
  local file, err = io.open(temporary, "wb")
  if not file then
    return nil, err
  end
  local ok, write_err = file:write(text)
  local closed, close_err = file:close()
  if not ok or not closed then
    os.remove(temporary)
    return nil, write_err or close_err
  end
  local renamed, rename_err = os.rename(temporary, path)
  if not renamed then
    os.remove(temporary)
    return nil, rename_err
  end
  return true
end


-- Writes `header` and `rows` (lists of fields) to `path` atomically (see
-- csvfile.replace). Returns true, or nil and a message.
function csvfile.write_atomically(path, header, rows)
  local lines = {csvfile.format(header)}
  for _, row in ipairs(rows) do
    lines[#lines + 1] = csvfile.format(row)
  end
  lines[#lines + 1] = ""
  return csvfile.replace(path, table.concat(lines, "\n"))
end


return csvfile
