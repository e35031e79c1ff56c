// DefineAuthChallenge as AWS's passwordless blog posts write it: three tries, then fail.
export const handler = async (event) => {
  const session = event.request.session ?? [];
  const last = session.at(-1);
  if (session.length >= 3 && last.challengeResult === false) {
    event.response.issueTokens = false;
    event.response.failAuthentication = true;
  } else if (last && last.challengeResult === true) {
    event.response.issueTokens = true;
    event.response.failAuthentication = false;
  } else {
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
    event.response.challengeName = 'CUSTOM_CHALLENGE';
  }
  return event;
};
