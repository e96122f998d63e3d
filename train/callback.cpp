// Logs and TrainState (callback.h).
#include "callback.h"

namespace tg::train {

Logs::Entry* Logs::find(const std::string& name) {
  for (Entry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

void Logs::set(const std::string& name, double value) {
  if (Entry* e = find(name)) {
    e->value = value;
    e->json.clear();
    return;
  }
  entries_.push_back({name, value, ""});
}

void Logs::set_json(const std::string& name, const std::string& json) {
  TG_CHECK(!json.empty(), "Logs::set_json: '", name, "' needs a JSON value");
  if (Entry* e = find(name)) {
    e->json = json;
    return;
  }
  entries_.push_back({name, 0, json});
}

bool Logs::has(const std::string& name) const {
  for (const Entry& e : entries_) {
    if (e.name == name && e.json.empty()) return true;
  }
  return false;
}

double Logs::get(const std::string& name) const {
  std::string known;
  for (const Entry& e : entries_) {
    if (e.name == name && e.json.empty()) return e.value;
    if (e.json.empty()) known += (known.empty() ? "" : ", ") + e.name;
  }
  TG_THROW("logs: no number '", name, "' this epoch (there are: ", known, ")");
}

void TrainState::set_checkpoint_metadata(const std::string& key, const std::string& value) {
  for (auto& [k, v] : checkpoint_metadata) {
    if (k == key) {
      v = value;
      return;
    }
  }
  checkpoint_metadata.emplace_back(key, value);
}

}  // namespace tg::train
