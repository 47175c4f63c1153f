-- generate: write the examples' data, an HR export of invented people and
-- their weekly schedule, the same bytes on every run.
--
--   lua5.4 examples/data/generate.lua [FIXTURE.json]
--
-- Groups, teams, languages and activities are taken from the emulator's
-- fixture (lua/kiamo/mock/fixture.json by default), so that every id in
-- the files exists there; the fixture's own agents' logins are avoided.
-- Writes hr_export.csv and schedule.csv beside this script. Every name is
-- drawn at random from the lists below: nobody real is described.

local cjson = require "cjson"

local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/../lib/?.lua;" .. package.path
local csvfile = require "csvfile"

local PEOPLE = 340          -- rows of the export
local LEFT_PER_MILLE = 60   -- share of people who left
local NO_TEAM_PER_MILLE = 70
local SUFFIX_PER_MILLE = 12 -- "Jr." after a comma: a quoted field
local NICKNAME_PER_MILLE = 12 -- a quoted nickname: doubled quotes
local MAIL_DOMAIN = "example.com"

-- First and last names by language prefix; the second of each pair is the
-- ASCII spelling used in logins.
local NAMES = {
  fr = {
    first = {"Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise",
             "Hugo", "Lucas", "Théo", "Nathan", "Mathis", "Julien",
             "Élodie", "Margaux", "Quentin", "Sébastien", "Aurélie",
             "Benoît", "Céline", "Gaëlle", "Jérôme", "Noémie", "Yann"},
    last = {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard",
            "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
            "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
            "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
            "Dupont", "Lambert", "Bonnet", "François", "Martinez",
            "Le Goff", "de la Roche", "Chevalier"},
  },
  en = {
    first = {"Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack",
             "Mia", "Charlie", "Grace", "Thomas", "Freya", "Oscar",
             "Emily", "William", "Poppy", "James", "Ruby", "Henry",
             "Evie"},
    last = {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson",
            "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans",
            "Walker", "White", "Roberts", "Green", "Hall", "Wood",
            "O'Connor", "Clarke"},
  },
  de = {
    first = {"Lukas", "Anna", "Leon", "Lena", "Finn", "Hannah", "Jonas",
             "Marie", "Paul", "Sophie", "Felix", "Jürgen", "Katrin",
             "Jörg", "Sabine"},
    last = {"Müller", "Schmidt", "Schneider", "Fischer", "Weber",
            "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch",
            "Richter", "Klein", "Wolf", "Schröder", "Neumann"},
  },
  es = {
    first = {"Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo",
             "Valeria", "Álvaro", "Carmen", "Javier", "Elena", "Diego"},
    last = {"García", "Rodríguez", "González", "Fernández", "López",
            "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz",
            "Moreno", "de la Cruz"},
  },
  it = {
    first = {"Giulia", "Francesco", "Sofia", "Alessandro", "Aurora",
             "Lorenzo", "Chiara", "Matteo", "Federica", "Davide"},
    last = {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",
            "Colombo", "Ricci", "Marino", "Greco", "De Luca"},
  },
  pt = {
    first = {"João", "Maria", "Tiago", "Beatriz", "Rodrigo", "Inês",
             "Gonçalo", "Mariana", "Duarte", "Leonor"},
    last = {"Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa",
            "Rodrigues", "Martins", "Sousa", "Gonçalves"},
  },
  nl = {
    first = {"Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Bram",
             "Sanne"},
    last = {"de Jong", "Jansen", "de Vries", "van den Berg", "Bakker",
            "Visser", "Smit", "Meijer"},
  },
}
local NICKNAMES = {"Bob", "Kiki", "Jo", "Max", "Lulu", "Sam"}

-- Accented letters (UTF-8) and their ASCII spelling, for logins.
local ASCII = {
  ["à"] = "a", ["á"] = "a", ["â"] = "a", ["ä"] = "a", ["ã"] = "a",
  ["ç"] = "c", ["é"] = "e", ["è"] = "e", ["ê"] = "e", ["ë"] = "e",
  ["í"] = "i", ["î"] = "i", ["ï"] = "i", ["ñ"] = "n", ["ó"] = "o",
  ["ô"] = "o", ["ö"] = "o", ["õ"] = "o", ["ú"] = "u", ["ü"] = "u",
  ["û"] = "u", ["Á"] = "a", ["É"] = "e", ["Ü"] = "u",
}

-- Weekly shift patterns in local time. `main` and `side` stand for the
-- team's two activities; a stop before the start runs into the next day.
local PATTERNS = {
  {weight = 40, days = {"mon", "tue", "wed", "thu", "fri"},
   shifts = {{"main", "09:00", "12:30"}, {"side", "13:30", "17:00"}}},
  {weight = 20, days = {"mon", "tue", "wed", "thu", "fri"},
   shifts = {{"main", "08:00", "12:00"}, {"main", "12:45", "16:00"}}},
  {weight = 15, days = {"mon", "tue", "wed", "thu", "fri"},
   shifts = {{"side", "11:00", "14:00"}, {"main", "15:00", "19:00"}}},
  {weight = 10, days = {"mon", "tue", "wed"},
   shifts = {{"main", "09:00", "13:00"}}},
  {weight = 5, days = {"tue", "wed", "thu"},
   shifts = {{"side", "13:00", "17:30"}}},
  {weight = 7, days = {"wed", "thu", "fri", "sat", "sun"},
   shifts = {{"main", "10:00", "18:00"}}},
}
-- The pattern of the teams whose label says "night".
local NIGHT_PATTERN = {days = {"mon", "tue", "wed", "thu"},
                       shifts = {{"main", "22:00", "06:00"}}}


-- A small linear congruential generator on 64-bit integers, started from
-- a hash of a fixed phrase: the same numbers on every machine.
local function new_random(phrase)
  local state = 0xcbf29ce484222325
  for i = 1, #phrase do
    state = (state ~ phrase:byte(i)) * 1099511628211
  end
  return function(n)
    state = state * 6364136223846793005 + 1442695040888963407
    return (state >> 33) % n + 1
  end
end


local function pick(random, list)
  return list[random(#list)]
end


local function pick_weighted(random, list)
  local total = 0
  for _, item in ipairs(list) do
    total = total + item.weight
  end
  local n = random(total)
  for _, item in ipairs(list) do
    n = n - item.weight
    if n <= 0 then
      return item
    end
  end
end


local function ascii(text)
  text = text:gsub("[\195][\128-\191]", ASCII)
  return (text:lower():gsub("[^a-z]", ""))
end


local function read_fixture(path)
  local file = assert(io.open(path, "rb"))
  local doc = cjson.decode(file:read("a"))
  file:close()
  local function ids(list)
    local out = {}
    for i, item in ipairs(list) do
      out[i] = math.tointeger(item.id)
    end
    return out
  end
  local taken, night_teams = {}, {}
  for _, agent in ipairs(doc.agents or {}) do
    taken[agent.login] = true
  end
  for _, team in ipairs(doc.teams) do
    if tostring(team.label):lower():find("night") then
      night_teams[math.tointeger(team.id)] = true
    end
  end
  return {groups = ids(doc.groups), teams = ids(doc.teams),
          activities = ids(doc.activities), languages = doc.languages,
          logins = taken, night_teams = night_teams}
end


local function make_people(random, fixture)
  local people, logins = {}, fixture.logins
  for _ = 1, PEOPLE do
    local language = pick(random, fixture.languages)
    local names = NAMES[language:sub(1, 2)] or NAMES.en
    local first = pick(random, names.first)
    local last = pick(random, names.last)
    local stem = ascii(first) .. "." .. ascii(last)
    local login, n = stem, 1
    while logins[login] do
      n = n + 1
      login = stem .. n
    end
    logins[login] = true
    if random(1000) <= SUFFIX_PER_MILLE then
      last = last .. ", Jr."
    end
    if random(1000) <= NICKNAME_PER_MILLE then
      first = first .. ' "' .. pick(random, NICKNAMES) .. '"'
    end
    local team = ""
    if random(1000) > NO_TEAM_PER_MILLE then
      team = pick(random, fixture.teams)
    end
    people[#people + 1] = {
      login = login, first_name = first, last_name = last,
      email = login .. "@" .. MAIL_DOMAIN,
      group = pick(random, fixture.groups), team = team,
      language = language,
      status = random(1000) <= LEFT_PER_MILLE and "left" or "active",
    }
  end
  return people
end


local function make_schedule(random, fixture, people)
  local rows = {}
  local activities = fixture.activities
  for _, person in ipairs(people) do
    if person.status == "active" then
      local pattern = pick_weighted(random, PATTERNS)
      if fixture.night_teams[person.team] then
        pattern = NIGHT_PATTERN
      end
      local main = pick(random, activities)
      local side = pick(random, activities)
      for _, day in ipairs(pattern.days) do
        for _, shift in ipairs(pattern.shifts) do
          local activity = shift[1] == "main" and main or side
          rows[#rows + 1] = {person.login, activity, day, shift[2],
                             shift[3]}
        end
      end
    end
  end
  return rows
end


local function write(path, header, rows)
  local ok, err = csvfile.write_atomically(path, header, rows)
  if not ok then
    error(path .. ": " .. tostring(err), 0)
  end
end


local function main(args)
  local fixture = read_fixture(args[1] or
    here .. "/../../lua/kiamo/mock/fixture.json")
  local random = new_random("lua-kiamo example data")
  local people = make_people(random, fixture)
  local export = {}
  for i, p in ipairs(people) do
    export[i] = {p.login, p.first_name, p.last_name, p.email, p.group,
                 p.team, p.language, p.status}
  end
  write(here .. "/hr_export.csv", {"login", "first_name", "last_name",
        "email", "group", "team", "language", "status"}, export)
  local schedule = make_schedule(random, fixture, people)
  write(here .. "/schedule.csv", {"login", "activity", "weekday", "start",
        "end"}, schedule)
  print(string.format("wrote %d people and %d shifts", #export, #schedule))
end


main(arg)
