#include "signalling/hub/frame_check.h"

namespace rdv::signalling {

CheckedFrame checkFrame(std::string_view text, const FrameCheckContext& context) {
  CheckedFrame out;
  out.bytes = text.size();
  if (text.size() > context.maxFrameBytes) {
    out.tooLarge = true;
    return out;
  }
  out.frame = decodeFrameAs(context.framing, text);
  if (!out.frame) return out;
  if (auto* auth = std::get_if<AuthFrame>(&*out.frame)) {
    out.nonce = context.pendingChallenge;
    out.authValid = context.pendingChallenge &&
                    checkChallengeResponse(context.hubId, *context.pendingChallenge, auth->node, auth->signature);
  } else if (auto* env = std::get_if<EnvelopeFrame>(&*out.frame);
             env && (context.verifySignatures || env->envelope.version != kEnvelopeVersion)) {
    // A v2 envelope names its sender only through its signature: always recovered, from filled in.
    out.envelopeChecked = true;
    if (auto verified = verify(env->envelope); !verified) {
      out.envelopeError = verified.error();
    } else {
      env->envelope.header.from = verified->header().from;
    }
  } else if (auto* pub = std::get_if<PublishFrame>(&*out.frame);
             pub && (context.verifySignatures || pub->publication.version != 1)) {
    // A v2 publication names its publisher only through its signature: always recovered, from filled in.
    out.signedChecked = true;
    out.signedValid = pub->publication.version != 1 ? completePublicationV2(pub->publication)
                                                    : verifyPublication(pub->publication);
  } else if (auto* members = std::get_if<TopicMembersFrame>(&*out.frame)) {
    out.signedChecked = true;
    out.signedValid = verifyMembers(members->record);
  }
  return out;
}

}  // namespace rdv::signalling
