using System.Diagnostics;
using System.Globalization;
using System.Text;
using VirtTools.Tests.Engine.Config;
using VirtTools.Tests.Support;
using Xunit;
using static VirtTools.Tests.Support.ChildProcesses;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// The hostile-profile suite against `virttools agent`: at start each file is a logged rejection and exit 1; in a
/// running agent (the real process) each one swapped in and signalled with SIGHUP is logged with its ErrorId and
/// position while the good profile stays in force, the agent still reloads a good file afterwards, and SIGTERM
/// still ends it cleanly.
/// </summary>
public sealed class HostileProfileAgentTests : IDisposable
{
    private const string KeptInForce = "kept the profile in force";

    /// <summary>Peak resident memory the agent may reach: reading the 300 MB file whole would pass it at once.</summary>
    private const long PeakMemoryBound = 250L << 20;

    private readonly TemporaryTree _fixture = CapturedFixture.CreateCopy();
    private readonly string _profile;

    public HostileProfileAgentTests() => _profile = Path.Combine(_fixture.Path, "host.yaml");

    public static TheoryData<string> Cases => new(HostileProfile.All.Select(p => p.Name));

    private string? PagesToScan => _fixture.Read("/sys/kernel/mm/ksm/pages_to_scan")?.Trim();

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>VmHWM, the process's peak resident set, from /proc/PID/status.</summary>
    private static long PeakMemory(Process process) =>
        File.ReadLines($"/proc/{process.Id}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_agent_started_on_a_hostile_profile_logs_why_and_where_and_exits_1(string name)
    {
        var profile = HostileProfile.Named(name);
        profile.Write(_profile);
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await Task.Run(() => VirtTools.Host.Program.Run(new[] { "agent", "--config", _profile, "--root", _fixture.Path }, output, error))
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, code);
        Assert.Contains(profile.Position(_profile), error.ToString());
        Assert.Contains($"[{profile.ErrorId}]", error.ToString());
    }

    [Fact]
    public async Task A_running_agent_keeps_its_profile_through_every_hostile_reload_and_still_stops_on_SIGTERM()
    {
        File.WriteAllText(_profile, "ksm: { pagesToScan: 1000 }\n");
        using var running = RunningAgent.Start(_profile, _fixture.Path);
        var agent = running.Process;
        string Log() => running.Log();
        await running.WaitUntilReady();
        Assert.True(WaitFor(() => PagesToScan == "1000"), $"pages_to_scan is {PagesToScan}\n{Log()}");

        var rejected = 0;
        foreach (var profile in HostileProfile.All)
        {
            profile.Write(_profile);
            Signal(agent, "HUP");
            rejected++;
            // stderr arrives line by line: the position and the ErrorId follow the first line
            bool Logged()
            {
                var text = Log();
                if (Count(text, KeptInForce) < rejected) return false;
                var entry = text[text.LastIndexOf(KeptInForce, StringComparison.Ordinal)..];
                return entry.Contains(profile.Position(_profile), StringComparison.Ordinal) && entry.Contains($"[{profile.ErrorId}]", StringComparison.Ordinal);
            }
            Assert.True(WaitFor(Logged), $"{profile.Name}: no rejection logged\n{Log()}");
            Assert.False(agent.HasExited, $"{profile.Name}: the agent exited\n{Log()}");
        }
        Assert.Equal("1000", PagesToScan);
        Assert.DoesNotContain("reloaded", Log());
        Assert.True(PeakMemory(agent) < PeakMemoryBound, $"peak RSS {PeakMemory(agent):N0} bytes");

        File.WriteAllText(_profile, "ksm: { pagesToScan: 500 }\n");
        Signal(agent, "HUP");
        Assert.True(WaitFor(() => PagesToScan == "500"), $"pages_to_scan is {PagesToScan} after a good reload\n{Log()}");

        await running.StopWithSigterm();
    }

    public void Dispose() => _fixture.Dispose();
}
