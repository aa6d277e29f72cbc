using System.Diagnostics;
using System.Globalization;
using VirtTools.Tests.Support;
using Xunit;
using static VirtTools.Tests.Support.ChildProcesses;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// `virttools agent` as systemd runs it, on a copy of the captured tree: applies the profile at start, reloads it on
/// SIGHUP (keeping the old one when the new file is broken), stops cleanly on SIGTERM, logs on stderr.
/// </summary>
public sealed class AgentDaemonTests : IDisposable
{
    private readonly TemporaryTree _fixture = CapturedFixture.CreateCopy();
    private readonly string _profile;

    public AgentDaemonTests() => _profile = Path.Combine(_fixture.Path, "host.yaml");

    private string? PagesToScan => _fixture.Read("/sys/kernel/mm/ksm/pages_to_scan")?.Trim();

    [Fact]
    public async Task Agent_applies_the_profile_reloads_it_on_SIGHUP_and_stops_on_SIGTERM()
    {
        File.WriteAllText(_profile, "ksm: { pagesToScan: 1000 }\n");
        using var running = RunningAgent.Start(_profile, _fixture.Path);
        var agent = running.Process;
        string Log() => running.Log();
        await running.WaitUntilReady();
        Assert.True(WaitFor(() => PagesToScan == "1000"), $"pages_to_scan is {PagesToScan}\n{Log()}");
        Assert.True(WaitFor(() => Log().Contains("applied: ", StringComparison.Ordinal)), Log());

        File.WriteAllText(_profile, "ksm: { pagesToScan: 500 }\n");
        Signal(agent, "HUP");
        Assert.True(WaitFor(() => PagesToScan == "500"), $"pages_to_scan is {PagesToScan} after SIGHUP\n{Log()}");

        File.WriteAllText(_profile, "ksm: { pagesToScan: lots }\n");
        Signal(agent, "HUP");
        // stderr arrives line by line: the problem's file:line:col follows the first line
        Assert.True(WaitFor(() => Log().Contains("kept the profile in force", StringComparison.Ordinal) && Log().Contains("host.yaml:1:", StringComparison.Ordinal)), Log());
        Assert.False(agent.HasExited);

        await running.StopWithSigterm();
    }

    [Fact]
    public async Task Agent_logs_a_failing_item_once_per_backoff_not_on_every_pass()
    {
        // No KSM on this host, and a plain tree where usbip-host never takes the device: both items fail on every try.
        Directory.Delete(_fixture.Resolve("/sys/kernel/mm/ksm"), recursive: true);
        File.WriteAllText(_profile, "ksm: { pagesToScan: 1000 }\nusbip:\n  exports:\n    - match: { busId: \"1-2\" }\n");
        using var running = RunningAgent.Start(_profile, _fixture.Path);
        await running.WaitUntilReady();

        // A pass every 0.2 s: by the third failure (after 1 + 2 s of backoff) some fifteen passes have run.
        Assert.True(WaitFor(() => running.Log().Contains("(next try in 4 s)", StringComparison.Ordinal)), running.Log());
        var lines = running.Log().Split('\n');
        Assert.Equal(new[] { "1 s", "2 s", "4 s" }, lines.Where(line => line.StartsWith("virttools agent: rolled back: Export 1-2 ", StringComparison.Ordinal))
            .Select(line => line[(line.LastIndexOf("(next try in ", StringComparison.Ordinal) + 13)..].TrimEnd(')', '\r')));
        // KSM is a start-up item: tried once per (re)load of the profile, so logged once.
        Assert.Single(lines, line => line.StartsWith("virttools agent: failed: ksm.pagesToScan: ", StringComparison.Ordinal));

        await running.StopWithSigterm();
    }

    [Fact]
    public async Task Agent_whose_pass_hangs_exits_3_after_its_stop_grace_and_says_why()
    {
        // A FIFO with no writer where the pass reads pages_to_scan: open(2) blocks, out of reach of any token.
        var fifo = _fixture.Resolve("/sys/kernel/mm/ksm/pages_to_scan");
        File.Delete(fifo);
        using (var mkfifo = Process.Start("mkfifo", new[] { fifo })!)
        {
            Assert.True(mkfifo.WaitForExit(30_000));
            Assert.Equal(0, mkfifo.ExitCode);
        }
        File.WriteAllText(_profile, "ksm: { pagesToScan: 1000 }\n");
        using var running = RunningAgent.Start(_profile, _fixture.Path);
        await running.WaitUntilReady();
        Assert.True(WaitFor(() => IsBlockedInOpen(running.Process)), "the pass never waited in open(2)\n" + running.Log());

        Signal(running.Process, "TERM");

        await running.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, running.Process.ExitCode);
        Assert.Contains("virttools agent: did not stop within 10 s of SIGTERM; exiting without a clean stop", running.Log());
    }

    /// <summary>
    /// Whether a thread of <paramref name="process"/> is inside openat(2) (what /proc's syscall file says of a thread
    /// that waits in a system call): the only file the agent opens and waits on is the FIFO. Opening the FIFO from here
    /// to see whether it has a reader would hand the pass a writer and end the hang.
    /// </summary>
    private static bool IsBlockedInOpen(Process process)
    {
        var openat = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "257 ",
            System.Runtime.InteropServices.Architecture.Arm64 => "56 ",
            var other => throw new PlatformNotSupportedException($"openat's number on {other} is not known here."),
        };
        foreach (var task in Directory.EnumerateDirectories($"/proc/{process.Id}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "syscall")).StartsWith(openat, StringComparison.Ordinal)) return true;
            }
            catch (IOException)
            {
                // the thread ended while we looked
            }
        }
        return false;
    }

    [Fact]
    public void Agent_without_a_profile_prints_its_usage_and_exits_2()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(2, VirtTools.Host.Program.Run(new[] { "agent", "--interval", "1" }, output, error));
        Assert.Contains("usage: virttools agent", error.ToString());
    }

    [Fact]
    public void Agent_with_a_broken_profile_says_where_and_exits_1()
    {
        File.WriteAllText(_profile, "ksm: { pagesToScan: lots }\n");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(1, VirtTools.Host.Program.Run(new[] { "agent", "--config", _profile, "--root", _fixture.Path }, output, error));
        Assert.Contains("host.yaml:1:", error.ToString());
    }

    public void Dispose() => _fixture.Dispose();
}
