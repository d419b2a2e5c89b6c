-- Argo CD health for the Stratus kinds, read from their kstatus-style status: observedGeneration, then the
-- Stalled, Reconciling and Ready conditions, as kstatus (kpt, Flux) reads them. Lua 5.1, as Argo CD runs it.
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

-- Until the operator has seen this generation, whatever the status says is about an older spec.
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end

local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = reconciling.message
  return hs
end

-- A server that is stopped, paused, suspended or shelved on purpose is neither broken nor on its way.
local phase = obj.status.phase
if phase == "SHUTOFF" or phase == "PAUSED" or phase == "SUSPENDED" or phase == "SHELVED" or phase == "SHELVED_OFFLOADED" then
  hs.status = "Suspended"
  hs.message = "The server is " .. phase
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

hs.status = "Progressing"
if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
else
  hs.message = "Waiting for the Ready condition"
end
return hs
