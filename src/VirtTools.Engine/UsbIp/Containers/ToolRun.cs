using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// One run of a container manager's tool: arguments as a list (no shell, nothing re-split), a bounded wait after
/// which the tool is killed, and at most <see cref="MaxOutputChars"/> of each stream kept, so a tool that hangs or
/// talks without end costs a bounded time and memory.
/// </summary>
public sealed record ToolRun(int ExitCode, string Output, string Error, bool TimedOut)
{
    public const int MaxOutputChars = 16 * 1024;

    /// <summary>"lxc-device -n desk042 add /dev/sda", for messages.</summary>
    public static string Describe(string tool, IEnumerable<string> arguments) => string.Join(' ', new[] { tool }.Concat(arguments));

    /// <summary>Runs the tool; null when it is not installed (the executable was not found).</summary>
    public static ToolRun? Start(string executable, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception) // ENOENT, or a file that is not executable: not usable as installed
        {
            return null;
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = ReadBoundedAsync(process.StandardOutput);
            var error = ReadBoundedAsync(process.StandardError);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(timeout);
            var timedOut = false;
            try
            {
                process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                cancellation.ThrowIfCancellationRequested();
                timedOut = true;
            }
            return new ToolRun(timedOut ? -1 : process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult(), timedOut);
        }
    }

    /// <summary>What the tool said on stderr (else stdout), as one trimmed line for a message.</summary>
    public string Complaint()
    {
        var said = (Error.Trim().Length > 0 ? Error : Output).Trim();
        return said.Length == 0 ? "it said nothing" : string.Join(" / ", said.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>Reads a stream to its end, keeping the first <see cref="MaxOutputChars"/> characters.</summary>
    private static async Task<string> ReadBoundedAsync(StreamReader reader)
    {
        var kept = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            kept.Append(buffer, 0, Math.Min(read, Math.Max(0, MaxOutputChars - kept.Length)));
        return kept.ToString();
    }
}
