-- kiamo.mock.errors: the API's 400 error bodies, {code, info}, in the one
-- wording API.md fixes.

local errors = {}

--- ERR_1000, "The json supplied is invalid" with an optional detail.
function errors.invalid(detail)
  local info = "The json supplied is invalid"
  if detail then info = info .. ": " .. detail end
  return {code = "ERR_1000", info = info}
end

--- ERR_1010, "Json attributes are missing: <what>".
function errors.missing(what)
  return {code = "ERR_1010", info = "Json attributes are missing: " .. what}
end

--- ERR_1020, "Arguments are invalid: <what>".
function errors.argument(what)
  return {code = "ERR_1020", info = "Arguments are invalid: " .. what}
end

return errors
