using System.Diagnostics;
using System.Globalization;

namespace VirtTools.Tests.Support;

/// <summary>What the tests that drive a real virttools process (agent, daemon) share: bounded waits and signals.</summary>
internal static class ChildProcesses
{
    /// <summary>Polls until the condition holds or 30 s pass (a loaded CI machine is slow); the last look decides.</summary>
    public static bool WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    /// <summary>Sends a signal by name ("HUP", "TERM") as kill(1) does.</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", new[] { "-" + signal, process.Id.ToString(CultureInfo.InvariantCulture) })!;
        kill.WaitForExit();
    }
}

/// <summary>
/// A real `out/virttools agent` on a profile and a root, its stderr log collected as it comes; killed on dispose if
/// a test ended before it stopped.
/// </summary>
internal sealed class RunningAgent : IDisposable
{
    private readonly System.Text.StringBuilder _log = new();

    private RunningAgent(Process process)
    {
        Process = process;
        process.ErrorDataReceived += (_, line) => { lock (_log) _log.AppendLine(line.Data); };
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    /// <summary>Everything the agent logged so far.</summary>
    public string Log() { lock (_log) return _log.ToString(); }

    /// <summary>Starts the agent passing every 0.2 s; stdout stays redirected for its "keeping ..." line.</summary>
    public static RunningAgent Start(string profile, string root)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryPaths.Root, "out", "virttools")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "agent", "--config", profile, "--root", root, "--interval", "0.2" })
            start.ArgumentList.Add(argument);
        return new RunningAgent(Process.Start(start)!);
    }

    /// <summary>Waits (bounded) for the agent's first line on stdout, which it writes once the profile is loaded.</summary>
    public async Task WaitUntilReady()
    {
        var ready = await Process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Xunit.Assert.StartsWith("virttools agent: keeping ", ready);
    }

    /// <summary>SIGTERM, as systemd stops it: the agent exits 0 within a bounded wait and logs that it stopped.</summary>
    public async Task StopWithSigterm()
    {
        ChildProcesses.Signal(Process, "TERM");
        await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Xunit.Assert.Equal(0, Process.ExitCode);
        Xunit.Assert.True(ChildProcesses.WaitFor(() => Log().Contains("virttools agent: stopped", StringComparison.Ordinal)), Log());
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill();
        Process.Dispose();
    }
}
