// CreateAuthChallenge as AWS's passwordless blog posts write it, sending the code by SMS through
// End User Messaging SMS (the SDK v3 client, created once per process) instead of SES/SNS.
import { randomInt } from 'node:crypto';
import {
  PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';

const sms = new PinpointSMSVoiceV2Client({});

export const handler = async (event) => {
  const session = event.request.session ?? [];
  let code;
  if (session.length === 0) {
    code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await sms.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: event.request.userAttributes.phone_number,
        OriginationIdentity: process.env.SMS_ORIGINATION_IDENTITY,
        MessageBody: `Your sign-in code is ${code}`,
        MessageType: 'TRANSACTIONAL',
      }),
    );
  } else {
    // The posts carry the code to later rounds in the challenge metadata.
    code = session.at(-1).challengeMetadata.match(/CODE-(\d*)/)[1];
  }
  const phone = event.request.userAttributes.phone_number;
  event.response.publicChallengeParameters = { phone: `***${phone.slice(-4)}` };
  event.response.privateChallengeParameters = { secretLoginCode: code };
  event.response.challengeMetadata = `CODE-${code}`;
  return event;
};
