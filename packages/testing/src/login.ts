/**
 * The plain HTML pages of the login flow: a username/password form with stable ids
 * (`username`, `password`, `login-submit`) that browser tests can drive, an error page,
 * and a signed-out page. Every value is escaped; the pages load no scripts.
 */
import { escapeHtml } from './http.js';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.error{color:#b00020}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

/** The login form; `requestId` ties the post to the pending authorize request. */
export function loginPage(
  action: string,
  requestId: string,
  clientId: string,
  error?: string,
  userName = '',
): string {
  const message =
    error === undefined
      ? ''
      : `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>`;
  return page(
    'Sign in',
    `<p>to continue to <code>${escapeHtml(clientId)}</code></p>
${message}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="request" value="${escapeHtml(requestId)}">
<label for="username">Login name</label>
<input id="username" name="username" autocomplete="username" value="${escapeHtml(userName)}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-submit" type="submit">Sign in</button>
</form>`,
  );
}

export function errorPage(error: string, description: string): string {
  return page(
    'Sign-in error',
    `<p class="error" id="error" data-error="${escapeHtml(error)}">${escapeHtml(description)}</p>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<p id="signed-out">You are signed out.</p>');
}
