using System.Management.Automation;
using System.Text;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Engine.UsbIp.HostileReplies;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// Get-UsbIpDevice and Connect-UsbIpDevice in a hosted runspace against a fake server that sends what no real one
/// does (issue 14): a record that cannot be used is a warning and the others are listed; a reply that cannot be
/// trusted is an error record with the protocol's id; the script goes on; Connect writes nothing to vhci_hcd.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class HostilePeerCmdletTests : IDisposable
{
    private const string Next = "; 'the script goes on'";

    private readonly PowerShellHarness _ps = new();

    private static byte[] FullBusId => WriteBusId(Record(), Enumerable.Repeat((byte)'1', 32).ToArray());

    private static byte[] FFBusId => WriteBusId(Record(), Enumerable.Repeat((byte)0xff, 20).ToArray());

    [Fact]
    public async Task Get_UsbIpDevice_lists_the_good_devices_and_warns_about_each_bad_record_naming_the_server()
    {
        await using var server = new HostileServer(HostileServer.Sends(DeviceList(FullBusId, Record("2-4"), FFBusId)));
        var devices = _ps.Ok<UsbIpRemoteDevice>("param($p) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p", new Dictionary<string, object?> { ["p"] = server.Port });
        Assert.Equal("2-4", Assert.Single(devices).BusId.ToString());
        var warnings = _ps.HostErrorText.Split('\n').Where(line => line.StartsWith("WARNING: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, line => Assert.Contains($"The USB/IP server 127.0.0.1:{server.Port} listed a device that was left out", line));
        Assert.Contains("record 1 of 3", warnings[0]);
        Assert.Contains("is 32 characters long", warnings[0]);
        Assert.Contains(@"\xff\xff", warnings[1]);
    }

    public static TheoryData<string, byte[], string> BrokenReplies => new()
    {
        { "33 interfaces", DeviceList(Record().Select((b, i) => i == NumInterfacesOffset ? (byte)33 : b).ToArray()), UsbIpProtocolException.LimitExceeded },
        { "2^32-1 devices", DeviceList(uint.MaxValue), UsbIpProtocolException.LimitExceeded },
        { "version 0xFFFF", Header(UsbIpOperation.ReplyDeviceList, version: 0xffff).Concat(new byte[4]).ToArray(), UsbIpProtocolException.VersionMismatch },
        { "the import reply's code", Header(UsbIpOperation.ReplyImport).Concat(new byte[4]).ToArray(), UsbIpProtocolException.Unexpected },
        { "3 announced, 1 sent", DeviceList(3, Record()), UsbIpProtocolException.Truncated },
        { "an unknown status", Header(UsbIpOperation.ReplyDeviceList, 0xdeadbeef).Concat(new byte[4]).ToArray(), "UsbIpServerError" },
    };

    [Theory]
    [MemberData(nameof(BrokenReplies))]
    public async Task Get_UsbIpDevice_reports_a_reply_it_cannot_trust_as_an_error_record_and_the_script_goes_on(string why, byte[] reply, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(reply));
        var result = _ps.Run("param($p) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p" + Next, new Dictionary<string, object?> { ["p"] = server.Port });
        AssertOneErrorAndGoesOn(result, errorId, why);
        Assert.Contains($"127.0.0.1:{server.Port}", result.Errors[0].Exception.Message);
        Assert.Equal("127.0.0.1", result.Errors[0].TargetObject);
    }

    [Fact]
    public async Task Get_UsbIpDevice_against_a_server_that_never_answers_is_UsbIpServerTimeout_after_TimeoutSec()
    {
        await using var server = new HostileServer(HostileServer.NeverAnswers());
        var result = _ps.Run("param($p) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p -TimeoutSec 1" + Next, new Dictionary<string, object?> { ["p"] = server.Port });
        AssertOneErrorAndGoesOn(result, "UsbIpServerTimeout", "silent server");
    }

    [Fact]
    public async Task A_bad_record_piped_to_Connect_UsbIpDevice_is_never_imported()
    {
        await using var server = new HostileServer(HostileServer.Sends(DeviceList(FullBusId, FFBusId)));
        using var kernel = VhciOnly();
        var result = _ps.Run("param($p, $r) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p | Connect-UsbIpDevice -Root $r -Confirm:$false" + Next,
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath });
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Equal("the script goes on", Assert.Single(result.Output).BaseObject);
        Assert.Equal(new[] { UsbIpOperation.RequestDeviceList }, server.Requests);
        Assert.Empty(kernel.Writes);
    }

    public static TheoryData<string, byte[], string> BadImports => new()
    {
        { "another device", Import(Record("9-9")), UsbIpProtocolException.Unexpected },
        { "a 32-byte bus id", Import(FullBusId), UsbIpProtocolException.InvalidDevice },
        { "20 bytes of 0xFF", Import(FFBusId), UsbIpProtocolException.InvalidDevice },
        { "speed 9", Import(WriteU32(Record(), SpeedOffset, 9)), UsbIpProtocolException.InvalidDevice },
        { "a record cut short", Import(Record())[..50], UsbIpProtocolException.Truncated },
        { "busy", Header(UsbIpOperation.ReplyImport, 2), "UsbIpDeviceBusy" },
    };

    [Theory]
    [MemberData(nameof(BadImports))]
    public async Task Connect_UsbIpDevice_refuses_an_import_reply_vhci_cannot_take_and_writes_nothing(string why, byte[] reply, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(reply));
        using var kernel = VhciOnly();
        var result = _ps.Run("param($p, $r) Connect-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p -BusId 2-3 -Root $r -Confirm:$false" + Next,
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath });
        AssertOneErrorAndGoesOn(result, errorId, why);
        Assert.Equal("2-3", Assert.Single(server.ImportedBusIds));
        Assert.Empty(kernel.Writes);
        Assert.False(Directory.Exists(kernel.Tree.Resolve("/run/vhci_hcd")) && Directory.EnumerateFiles(kernel.Tree.Resolve("/run/vhci_hcd")).Any());
    }

    [Fact]
    public async Task Connect_UsbIpDevice_with_a_bus_id_that_is_no_bus_id_is_a_binding_error_naming_it_before_anything_is_sent()
    {
        await using var server = new HostileServer(HostileServer.Sends(Import(Record())));
        using var kernel = VhciOnly();
        var result = _ps.Run("param($p, $r, $b) Connect-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p -BusId $b -Root $r -Confirm:$false" + Next,
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath, ["b"] = new string('1', 40) });
        AssertOneErrorAndGoesOn(result, "CannotConvertArgumentNoMessage", "a bus id of 40 characters does not bind");
        Assert.Contains($"'{new string('1', 40)}' is not a USB bus id", result.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Connections);
        Assert.Empty(kernel.Writes);
    }

    private static Double VhciOnly()
    {
        var kernel = Double.OnEmptyTree();
        kernel.Usb.AddVhci(controllers: 1, portsPerHub: 2);
        return kernel;
    }

    private static void AssertOneErrorAndGoesOn(VirtTools.Host.Shell.ShellResult result, string errorId, string why)
    {
        Assert.Null(result.Terminating);
        var error = Assert.Single(result.Errors);
        Assert.True(error.FullyQualifiedErrorId.StartsWith(errorId + ",", StringComparison.Ordinal), $"{why}: {error.FullyQualifiedErrorId}: {error.Exception.Message}");
        Assert.Equal("the script goes on", Assert.Single(result.Output).BaseObject);
    }

    public void Dispose() => _ps.Dispose();
}
