/**
 * The login page of read authentication: plain HTML with a form (no script needed to log in),
 * served by the server itself so that it works before the UI's code may be loaded.
 */

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page; `next` is where a successful login goes (already checked to be a local path). */
export function loginPage(o: { failed: boolean; next: string; users: boolean }): string {
  const userField = o.users
    ? '<label>User <input name="user" autocomplete="username" autofocus required></label>'
    : '<input type="hidden" name="user" value="">';
  const hint = o.users ? '' : '<p class="hint">Enter the read token (or the admin token).</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>smokemesh — log in</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; display: grid; place-items: center; min-height: 90vh; margin: 0; }
form { background: #fff; padding: 28px 32px; border-radius: 8px; box-shadow: 0 1px 4px #0002; display: grid; gap: 14px; width: 300px; }
h1 { font-size: 20px; margin: 0 0 4px; }
label { display: grid; gap: 4px; font-size: 13px; color: #4a5263; }
input { font: inherit; padding: 7px 9px; border: 1px solid #c5cad3; border-radius: 5px; }
button { font: inherit; padding: 8px; border: 0; border-radius: 5px; background: #2f6fde; color: #fff; cursor: pointer; }
.error { color: #b3261e; margin: 0; }
.hint { color: #4a5263; margin: 0; font-size: 13px; }
</style>
</head>
<body>
<form method="post" action="login" id="login">
<h1>smokemesh</h1>
${o.failed ? '<p class="error" role="alert">Wrong user name or password.</p>' : ''}${hint}
${userField}
<label>${o.users ? 'Password' : 'Token'} <input name="password" type="password" autocomplete="current-password" required${o.users ? '' : ' autofocus'}></label>
<input type="hidden" name="next" value="${escape(o.next)}">
<button type="submit">Log in</button>
</form>
<script>
// The UI keeps its place in the URL's #fragment, which the server never sees: carry it along.
document.getElementById('login').addEventListener('submit', function () {
  var next = this.elements.next;
  if (location.hash && next.value.indexOf('#') < 0) next.value += location.hash;
});
</script>
</body>
</html>
`;
}
