// The compact framing of the signalling WebSocket (subprotocol rdv.cbor.1, docs/signalling.md
// "Compact wire"): every frame of frames.h as one binary WebSocket message holding one CBOR map
// (signalling/cbor/cbor.h, strict) with small unsigned integer keys, key 0 the frame type, and raw byte
// strings for ids, nonces, keys, signatures and ciphertext. An envelope frame carries the envelope's
// fields flat in the frame's map. The signed bytes of an envelope (envelope.h) are the same whatever
// the framing: a JSON client and a CBOR client verify each other's envelopes.
//
//   type 1 challenge  {0:1, 1:hub bstr32, 2:nonce bstr32, 3:expiresInMs}
//   type 2 auth       {0:2, 1:node bstr32, 2:sig bstr65[, 3:true (presence opt-in; absent: false)]}
//   type 3 welcome    {0:3, 1:node bstr32, 2:stored}
//   type 4 envelope   {0:4, 1:envelope type (1 offer .. 6 message), 2:from bstr32, 3:to bstr32, 4:seq,
//                      5:ts, 6:epk bstr33, 7:nonce bstr12, 8:ct bstr, 9:sig bstr65}   (envelope v1)
//   type 5 ack        {0:5, 1:to bstr32, 2:seq, 3:status (0 delivered, 1 stored)}
//   type 6 error      {0:6, 1:code text, 2:message text[, 3:to bstr32][, 4:seq][, 5:topic text]}
//   type 7 received   {0:7, 1:from bstr32, 2:seq}
//   type 8 path-report {0:8, 1:path text, 2:local text, 3:remote text}
//   type 9 publish    {0:9, 1:from bstr32, 2:topic text, 3:seq, 4:ts, 5:body bstr, 6:sig bstr65}
//   type 10 subscribe {0:10, 1:topic text}          type 11 unsubscribe {0:11, 1:topic text}
//   type 12 subscribed {0:12, 1:topic text, 2:history}
//   type 13 published {0:13, 1:topic text, 2:seq, 3:subscribers}
//   type 14 topic-members {0:14, 1:topic text, 2:owner bstr32, 3:members bstr(32 n), 4:seq, 5:sig bstr65}
//   type 15 watch     {0:15, 1:nodes bstr(32 n)[, 2:namespace text]}   type 16 unwatch: the same keys
//   type 17 presence  {0:17, 1:event (0 offline, 1 online), 2:node bstr32, 3:last_seen, 4:sig bstr65}
//   type 18 envelope v2 {0:18, 1:the v2 envelope's bytes} (decodes to an EnvelopeFrame of version 2)
//   type 19 publish v2 {0:19, 1:topic text, 2:seq, 3:body bstr, 4:sig bstr64} (a Publication of version 2)
//
// Keys appear in increasing order (the decoder's rule), and a key the frame type does not define is
// refused: a later revision of the wire is a new subprotocol (rdv.cbor.2), not silent extra keys.
#pragma once

#include <string>
#include <string_view>

#include "signalling/hub/frames.h"

namespace rdv::signalling {

enum class CborFrameType : uint8_t {
  Challenge = 1, Auth = 2, Welcome = 3, Envelope = 4, Ack = 5, Error = 6, Received = 7, PathReport = 8,
  Publish = 9, Subscribe = 10, Unsubscribe = 11, Subscribed = 12, Published = 13, TopicMembers = 14,
  Watch = 15, Unwatch = 16, Presence = 17,
  EnvelopeV2 = 18,  // an envelope of version 2 (envelope_v2.h): {0:18, 1:its bytes}
  PublishV2 = 19,   // a publication of version 2 (publication.h)
};

std::string encodeFrameCbor(const Frame& f);
// encodeFrameCbor(EnvelopeFrame{e}) without the copy (the hub's forwarding path).
std::string encodeEnvelopeFrameCbor(const Envelope& e);
// Errors as decodeFrame's: NotJson (here: not one well-formed, strict CBOR map), UnknownType,
// Malformed, Envelope.
Result<Frame, FrameError> decodeFrameCbor(std::string_view bytes);

}  // namespace rdv::signalling
