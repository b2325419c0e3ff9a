"""Parses gcloud command lines with the installed Cloud SDK, without credentials, in one process.

    python3 gcloud-parse-check.py SDK_ROOT LINES_FILE

LINES_FILE holds one shell-quoted command line per line, starting with the word gcloud. Each is handed to the
SDK's own command-line interface, exactly as the gcloud command would be; with no account configured, a line
whose flags and values gcloud accepts stops at "no active account" (exit 1) before any request is made, while an
unknown flag, a missing required flag or a malformed value stops in the argument parser (exit 2). Prints a FAIL
line for every exit 2 and exits 1 if there was any. Running all lines in one process costs about a second
instead of about a second per line.

Run it with CLOUDSDK_CONFIG pointing at an empty directory (no account) and usage reporting off: see
deploy/validate.sh.
"""

import os
import shlex
import sys
import tempfile

sdk_root, lines_file = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(sdk_root, "lib", "third_party"))
sys.path.insert(0, os.path.join(sdk_root, "lib"))

from googlecloudsdk import gcloud_main  # noqa: E402  (path set up above)

cli = gcloud_main.CreateCLI([])
failed = 0
total = 0
with open(lines_file, encoding="utf-8") as lines:
    for line in lines:
        argv = shlex.split(line)
        if not argv or argv[0] != "gcloud":
            continue
        total += 1
        saved_out, saved_err = os.dup(1), os.dup(2)
        with tempfile.TemporaryFile(mode="w+") as captured:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(captured.fileno(), 1)
            os.dup2(captured.fileno(), 2)
            try:
                cli.Execute(argv[1:])
                code = 0
            except SystemExit as exit_:
                code = exit_.code
            except Exception as error:  # anything else is not an argument problem
                code = "exception: %s" % error
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved_out, 1)
                os.dup2(saved_err, 2)
                os.close(saved_out)
                os.close(saved_err)
            captured.seek(0)
            output = captured.read()
        if code == 2:
            failed += 1
            error_line = next((l for l in output.splitlines() if l.startswith("ERROR")), output.strip()[:300])
            print("FAIL %s\n     %s" % (line.strip(), error_line))

print("%d of %d command lines rejected by the argument parser" % (failed, total))
sys.exit(1 if failed else 0)
