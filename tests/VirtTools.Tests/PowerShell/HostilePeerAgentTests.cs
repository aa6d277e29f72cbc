using System.Diagnostics;
using System.Globalization;
using System.Text;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Support.ChildProcesses;
using static VirtTools.Tests.Engine.UsbIp.HostileReplies;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// A real `virttools agent` (out/virttools) whose profile attaches a device from a fake server that answers what no
/// real server does (issue 14: a 32-byte bus id used to end the agent with exit 134 in its first pass). The agent
/// logs the failure against the attachment with the server named, keeps running, retries with its backoff, and
/// ends only on SIGTERM, with its normal exit code. The root is a tree with a vhci_hcd controller and nothing else.
/// </summary>
public sealed class HostilePeerAgentTests : IDisposable
{
    private readonly Double _kernel = Double.OnEmptyTree();

    public HostilePeerAgentTests() => _kernel.Usb.AddVhci(controllers: 1, portsPerHub: 2);

    public static TheoryData<string, string, byte[], string> Peers => new()
    {
        { "a listed bus id of 32 bytes with no NUL", "vendorId: \"46f4\", productId: \"0001\"",
            DeviceList(WriteBusId(Record(), Enumerable.Repeat((byte)'1', 32).ToArray())), "is 32 characters long" },
        { "a listed bus id of 20 bytes of 0xFF", "vendorId: \"46f4\", productId: \"0001\"",
            DeviceList(WriteBusId(Record(), Enumerable.Repeat((byte)0xff, 20).ToArray())), @"\xff\xff" },
        { "a listed device with 200 interfaces", "vendorId: \"46f4\"",
            DeviceList(Record().Select((b, i) => i == NumInterfacesOffset ? (byte)200 : b).ToArray()), "announces 200 interfaces" },
        { "an import answered with another device", "busId: \"2-3\"", Import(Record("9-9")), "was answered with device 9-9" },
        { "an import answered with a speed no kernel knows", "busId: \"2-3\"", Import(WriteU32(Record(), SpeedOffset, 0xffffffff)), "speed code 4294967295" },
    };

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task The_agent_logs_a_hostile_server_against_the_attachment_keeps_running_and_stops_on_SIGTERM(string why, string match, byte[] reply, string phrase)
    {
        await using var server = new HostileServer(HostileServer.Sends(reply));
        var profile = Path.Combine(_kernel.RootPath, "host.yaml");
        File.WriteAllText(profile, $"usbip:\n  attachments:\n    - computerName: 127.0.0.1\n      tcpPort: {server.Port}\n      match: {{ {match} }}\n      reconnect: true\n");
        using var running = RunningAgent.Start(profile, _kernel.RootPath);
        var agent = running.Process;
        string Log() => running.Log();
        await running.WaitUntilReady();

        // Backoff 1 s, then 2 s: a third request shows two retries survived, not a tight loop.
        Assert.True(WaitFor(() => server.Connections >= 3 || agent.HasExited), $"{why}: {server.Connections} requests\n{Log()}");
        Assert.False(agent.HasExited, $"{why}: the agent ended with {(agent.HasExited ? agent.ExitCode : 0)}\n{Log()}");
        Assert.True(WaitFor(() => FailureLines(Log(), server.Port, phrase).Count >= 2), $"{why}\n{Log()}");
        Assert.Contains("next try in 2 s", Log());
        Assert.DoesNotContain("Unhandled exception", Log());

        await running.StopWithSigterm();
    }

    /// <summary>The agent's lines that report the attachment failed because of what this server sent.</summary>
    private static List<string> FailureLines(string log, int port, string phrase) => log.Split('\n')
        .Where(line => (line.StartsWith("virttools agent: rolled back: Attach", StringComparison.Ordinal) || line.StartsWith("virttools agent: failed: Attach", StringComparison.Ordinal))
            && line.Contains($"127.0.0.1:{port}", StringComparison.Ordinal) && line.Contains(phrase, StringComparison.Ordinal))
        .ToList();

    public void Dispose() => _kernel.Dispose();
}
