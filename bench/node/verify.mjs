// VerifyAuthChallengeResponse as AWS's passwordless blog posts write it.
export const handler = async (event) => {
  const expected = event.request.privateChallengeParameters.secretLoginCode;
  event.response.answerCorrect = event.request.challengeAnswer === expected;
  return event;
};
