// The one libsecp256k1 context of the process: created on first use, randomized against side
// channels, then used read-only (sign/verify/recover/ECDH on a const context are thread safe).
#pragma once

struct secp256k1_context_struct;

namespace rdv::identity {

const secp256k1_context_struct* secpContext();

}  // namespace rdv::identity
