#include "rendezvous/enr/enr_builder.h"

#include "rendezvous/identity/keccak.h"

namespace rdv::enr {

EnrBuilder EnrBuilder::from(const EnrRecord& record) {
  EnrBuilder b;
  b.seq_ = record.seq();
  for (const auto& e : record.entries()) b.values_[std::string(e.key)] = Bytes(e.value.begin(), e.value.end());
  return b;
}

EnrBuilder& EnrBuilder::setSeq(uint64_t seq) {
  seq_ = seq;
  return *this;
}

EnrBuilder& EnrBuilder::setRaw(std::string_view key, ByteSpan rlpItem) {
  values_[std::string(key)] = Bytes(rlpItem.begin(), rlpItem.end());
  return *this;
}

EnrBuilder& EnrBuilder::setBytes(std::string_view key, ByteSpan value) {
  Bytes item;
  encodeString(item, value);
  values_[std::string(key)] = std::move(item);
  return *this;
}

EnrBuilder& EnrBuilder::setUint(std::string_view key, uint64_t value) {
  Bytes item;
  encodeUint(item, value);
  values_[std::string(key)] = std::move(item);
  return *this;
}

EnrBuilder& EnrBuilder::remove(std::string_view key) {
  values_.erase(std::string(key));
  return *this;
}

Result<EnrRecord, EnrError> EnrBuilder::sign(const identity::PrivateKey& key) const {
  std::map<std::string, Bytes> values = values_;
  Bytes id;
  encodeString(id, asBytes("v4"));
  values["id"] = std::move(id);
  Bytes pub;
  encodeString(pub, key.publicKey().compressed());
  values["secp256k1"] = std::move(pub);

  Bytes body;  // seq, k, v, ...
  encodeUint(body, seq_);
  for (const auto& [k, v] : values) {
    if (!decodeItem(v).ok()) return unexpected(EnrError::InvalidValue);
    encodeString(body, asBytes(k));
    body.insert(body.end(), v.begin(), v.end());
  }
  Bytes content;
  encodeList(content, body);
  auto sig = key.sign(identity::keccak256(content));
  if (!sig) return unexpected(EnrError::SigningFailed);

  Bytes payload;
  payload.reserve(sig->size() + 2 + body.size());
  encodeString(payload, *sig);
  payload.insert(payload.end(), body.begin(), body.end());
  Bytes record;
  encodeList(record, payload);
  if (record.size() > kMaxRecordSize) return unexpected(EnrError::TooLarge);
  return EnrRecord::decode(record);
}

}  // namespace rdv::enr
