using System.Diagnostics;
using System.Text;
using VirtTools.Diagnostics;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Engine.UsbIp.HostileReplies;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The engine client against a server that sends wrong values in every field it reads (issue 14): a record whose
/// values cannot be used is left out and reported with the server named, the other devices still listed; a reply
/// whose framing cannot be trusted fails as a whole with a protocol error that names the server; nothing else is
/// ever thrown, and every wait is bounded.
/// </summary>
public sealed class HostilePeerClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Bus id fields no server of a real device sends, each as raw bytes (the field is NUL-padded after them).</summary>
    public static TheoryData<string, byte[]> BadBusIds => new()
    {
        { "32 bytes, no NUL", Enumerable.Repeat((byte)'1', 32).ToArray() },
        { "20 bytes of 0xFF (60 when re-encoded as UTF-8)", Enumerable.Repeat((byte)0xff, 20).ToArray() },
        { "UTF-8 that fits, but is not ASCII", Encoding.UTF8.GetBytes("1-1é") },
        { "a traversal", Encoding.ASCII.GetBytes("../../../etc") },
        { "a newline", Encoding.ASCII.GetBytes("1-1\n2-2") },
        { "an escape sequence", Encoding.ASCII.GetBytes("\u001b[2J1-1") },
        { "empty", Array.Empty<byte>() },
        { "a space", Encoding.ASCII.GetBytes("1-1 ") },
        { "an interface, not a device", Encoding.ASCII.GetBytes("1-1:1.0") },
        { "a root hub, which is never exported", Encoding.ASCII.GetBytes("usb1") },
        { "a leading zero (not the kernel's spelling)", Encoding.ASCII.GetBytes("01-1") },
        { "a port past any hub's", Encoding.ASCII.GetBytes("1-256") },
        { "more tiers than the kernel nests", Encoding.ASCII.GetBytes("1-1.1.1.1.1.1.1.1.1") },
        { "a bus past int", Encoding.ASCII.GetBytes("99999999999-1") },
    };

    [Theory]
    [MemberData(nameof(BadBusIds))]
    public async Task A_listed_device_whose_bus_id_is_no_bus_id_is_left_out_and_reported_the_others_listed(string why, byte[] busId)
    {
        await using var server = new HostileServer(HostileServer.Sends(DeviceList(WriteBusId(Record(), busId), Record("2-4"))));
        var list = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout);
        Assert.Equal("2-4", Assert.Single(list).BusId);
        var refused = Assert.Single(list.Refused);
        AssertNamesServer(refused.Problem, server, UsbIpProtocolException.InvalidDevice);
        Assert.Contains("record 1 of 2, 46f4:0001", refused.Problem.Message);
        Assert.Contains("bus id", refused.Problem.Message);
        Assert.True(refused.Problem.Message.All(c => c is >= ' ' and <= '~'), $"{why}: the message shows the peer's bytes escaped: {refused.Problem.Message}");
        Assert.Equal(refused.Problem.Message, Assert.Single(list.Warnings));
    }

    public static TheoryData<string, byte[], string> BadValues => new()
    {
        { "a path with no NUL", WritePath(Record(), Enumerable.Repeat((byte)'p', 256).ToArray()), "path fills" },
        { "a path with an escape sequence", WritePath(Record(), Encoding.ASCII.GetBytes("/sys/\u001b]0;owned\u0007")), "not printable" },
        { "a path that is not ASCII", WritePath(Record(), Enumerable.Repeat((byte)0xff, 100).ToArray()), "not printable" },
        { "speed 7", WriteU32(Record(), SpeedOffset, 7), "speed code 7" },
        { "speed 0xFFFFFFFF", WriteU32(Record(), SpeedOffset, uint.MaxValue), "speed code 4294967295" },
        { "bus number 65536", WriteU32(Record(), BusNumberOffset, 0x10000), "bus and device numbers" },
        { "device number 2^32-1", WriteU32(Record(), DeviceNumberOffset, uint.MaxValue), "bus and device numbers" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task A_listed_device_with_a_value_vhci_or_a_screen_cannot_take_is_left_out_and_reported(string why, byte[] record, string phrase)
    {
        Assert.Equal(UsbIpProtocol.DeviceRecordSize, record.Length);
        await using var server = new HostileServer(HostileServer.Sends(DeviceList(Record("2-4"), record)));
        var list = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout);
        Assert.Equal("2-4", Assert.Single(list).BusId);
        var refused = Assert.Single(list.Refused);
        AssertNamesServer(refused.Problem, server, UsbIpProtocolException.InvalidDevice);
        Assert.True(refused.Problem.Message.Contains(phrase, StringComparison.Ordinal), $"{why}: {refused.Problem.Message}");
    }

    [Fact]
    public async Task Thousands_of_bad_records_are_reported_in_a_bounded_number_of_warnings()
    {
        var bad = WriteBusId(Record(), Enumerable.Repeat((byte)0xff, 32).ToArray());
        await using var server = new HostileServer(HostileServer.Sends(DeviceList(Enumerable.Repeat(bad, 2000).Append(Record()).ToArray())));
        var list = await UsbIpClient.GetDevicesAsync("127.0.0.1", server.Port, Timeout, names: null);
        Assert.Equal("2-3", Assert.Single(list).BusId.ToString());
        Assert.Equal(2000, list.Refused.Count);
        var warnings = list.Warnings.ToList();
        Assert.Equal(UsbIpDeviceList<UsbIpRemoteDevice>.MaxWarnings + 1, warnings.Count);
        Assert.StartsWith("1990 more device records", warnings[^1]);
    }

    /// <summary>Replies whose framing cannot be trusted: nothing of them is used.</summary>
    public static TheoryData<string, byte[], string> BrokenReplies => new()
    {
        { "nothing at all", Array.Empty<byte>(), UsbIpProtocolException.Truncated },
        { "half a header", Header(UsbIpOperation.ReplyDeviceList)[..5], UsbIpProtocolException.Truncated },
        { "version 1.1.0", DeviceList(Record()).Select((b, i) => i == 1 ? (byte)0x10 : b).ToArray(), UsbIpProtocolException.VersionMismatch },
        { "version 0xFFFF", Header(UsbIpOperation.ReplyDeviceList, version: 0xffff).Concat(new byte[4]).ToArray(), UsbIpProtocolException.VersionMismatch },
        { "the import reply's code", Header(UsbIpOperation.ReplyImport).Concat(new byte[4]).ToArray(), UsbIpProtocolException.Unexpected },
        { "a request's code", Header(UsbIpOperation.RequestDeviceList).Concat(new byte[4]).ToArray(), UsbIpProtocolException.Unexpected },
        { "an unknown code", Header((UsbIpOperation)0x1234).Concat(new byte[4]).ToArray(), UsbIpProtocolException.Unexpected },
        { "16385 devices announced", DeviceList(UsbIpProtocol.MaxDevices + 1), UsbIpProtocolException.LimitExceeded },
        { "2^32-1 devices announced", DeviceList(uint.MaxValue), UsbIpProtocolException.LimitExceeded },
        { "3 devices announced, 1 sent", DeviceList(3, Record()), UsbIpProtocolException.Truncated },
        { "a record cut short", DeviceList(Record())[..200], UsbIpProtocolException.Truncated },
        { "33 interfaces", DeviceList(Record().Select((b, i) => i == NumInterfacesOffset ? (byte)33 : b).ToArray()), UsbIpProtocolException.LimitExceeded },
        { "255 interfaces", DeviceList(Record().Select((b, i) => i == NumInterfacesOffset ? (byte)255 : b).ToArray()), UsbIpProtocolException.LimitExceeded },
        { "interfaces announced, not sent", DeviceList(Record())[..^4], UsbIpProtocolException.Truncated },
    };

    [Theory]
    [MemberData(nameof(BrokenReplies))]
    public async Task A_device_list_reply_that_cannot_be_trusted_is_a_protocol_error_naming_the_server(string why, byte[] reply, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(reply));
        var error = await Assert.ThrowsAsync<UsbIpProtocolException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        Assert.True(error.ErrorId == errorId, $"{why}: {error.ErrorId}: {error.Message}");
        AssertNamesServer(error, server, errorId);
    }

    [Theory]
    [InlineData(1u, "UsbIpDeviceNotAvailable")]
    [InlineData(5u, "UsbIpServerError")]
    [InlineData(0xdeadbeefu, "UsbIpServerError")]
    public async Task A_device_list_reply_with_an_error_status_is_that_status_failure_naming_the_server(uint status, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(Header(UsbIpOperation.ReplyDeviceList, status).Concat(new byte[4]).ToArray()));
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        Assert.Equal(errorId, error.ErrorId);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
    }

    [Fact]
    public async Task A_server_that_accepts_and_never_answers_is_UsbIpServerTimeout_within_the_given_time()
    {
        await using var server = new HostileServer(HostileServer.NeverAnswers());
        var waited = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromMilliseconds(500)));
        Assert.Equal("UsbIpServerTimeout", error.ErrorId);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_server_that_dribbles_bytes_forever_is_UsbIpServerTimeout_within_the_given_time()
    {
        // Each byte arrives before any per-read timeout could fire: only a deadline on the whole reply ends this.
        await using var server = new HostileServer(HostileServer.SendsForever(DeviceList(2, Record())[..12], new byte[1], TimeSpan.FromMilliseconds(20)));
        var waited = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(1)));
        Assert.Equal("UsbIpServerTimeout", error.ErrorId);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_server_that_sends_endless_bytes_after_its_list_is_not_read_past_the_list()
    {
        await using var server = new HostileServer(HostileServer.SendsForever(DeviceList(Record()), new byte[64 * 1024]));
        var list = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout);
        Assert.Equal("2-3", Assert.Single(list).BusId);
    }

    [Fact]
    public async Task The_most_devices_a_server_may_announce_are_read_and_no_more()
    {
        var records = Enumerable.Range(0, (int)UsbIpProtocol.MaxDevices).Select(i => Record($"{1 + i / 100}-{1 + i % 100}")).ToArray();
        await using var server = new HostileServer(HostileServer.SendsForever(DeviceList(records), Record()));
        var list = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(60));
        Assert.Equal((int)UsbIpProtocol.MaxDevices, list.Count);
        Assert.Empty(list.Refused);
    }

    [Fact]
    public async Task A_connection_reset_mid_reply_is_UsbIpConnectionLost_naming_the_server()
    {
        await using var server = new HostileServer(HostileServer.Resets(DeviceList(2, Record())));
        var error = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        // A reset that overtakes the data reads as a reset, one that follows it as a close after the bytes that came.
        Assert.Contains(error.ErrorId, new[] { UsbIpErrors.ConnectionLostId, UsbIpProtocolException.Truncated });
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
    }

    /// <summary>Import replies that must not reach vhci_hcd.</summary>
    public static TheoryData<string, byte[], string> BadImportReplies => new()
    {
        { "another device", Import(Record("9-9")), UsbIpProtocolException.Unexpected },
        { "the bus id asked for with junk after it in a full field", Import(WriteBusId(Record(), Encoding.ASCII.GetBytes("2-3" + new string('x', 29)))), UsbIpProtocolException.InvalidDevice },
        { "a 32-byte bus id", Import(WriteBusId(Record(), Enumerable.Repeat((byte)'1', 32).ToArray())), UsbIpProtocolException.InvalidDevice },
        { "20 bytes of 0xFF", Import(WriteBusId(Record(), Enumerable.Repeat((byte)0xff, 20).ToArray())), UsbIpProtocolException.InvalidDevice },
        { "speed 9", Import(WriteU32(Record(), SpeedOffset, 9)), UsbIpProtocolException.InvalidDevice },
        { "bus number 2^32-1", Import(WriteU32(Record(), BusNumberOffset, uint.MaxValue)), UsbIpProtocolException.InvalidDevice },
        { "33 interfaces", Import(Record().Select((b, i) => i == NumInterfacesOffset ? (byte)33 : b).ToArray()), UsbIpProtocolException.LimitExceeded },
        { "a header only", Header(UsbIpOperation.ReplyImport), UsbIpProtocolException.Truncated },
        { "a record cut short", Import(Record())[..100], UsbIpProtocolException.Truncated },
        { "the device list's code", DeviceList(Record()), UsbIpProtocolException.Unexpected },
        { "version 2.0.0", Import(Record()).Select((b, i) => i == 0 ? (byte)0x02 : b).ToArray(), UsbIpProtocolException.VersionMismatch },
    };

    [Theory]
    [MemberData(nameof(BadImportReplies))]
    public async Task An_import_reply_that_cannot_be_given_to_vhci_is_a_protocol_error_naming_the_server(string why, byte[] reply, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(reply));
        var error = await Assert.ThrowsAsync<UsbIpProtocolException>(() => UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout));
        Assert.True(error.ErrorId == errorId, $"{why}: {error.ErrorId}: {error.Message}");
        AssertNamesServer(error, server, errorId);
        Assert.Equal("2-3", Assert.Single(server.ImportedBusIds));
    }

    [Theory]
    [InlineData(2u, "UsbIpDeviceBusy")]
    [InlineData(4u, "UsbIpDeviceNotFound")]
    [InlineData(77u, "UsbIpServerError")]
    public async Task An_import_refused_with_a_status_is_that_status_failure(uint status, string errorId)
    {
        await using var server = new HostileServer(HostileServer.Sends(Header(UsbIpOperation.ReplyImport, status)));
        var error = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout));
        Assert.Equal(errorId, error.ErrorId);
    }

    [Theory]
    [InlineData("12345678901234567890123456789012")]
    [InlineData("1-1\nroot")]
    [InlineData("ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ")]
    [InlineData("../../usbip_sockfd")]
    public async Task An_import_of_a_bus_id_that_is_no_bus_id_is_UsbIpInvalidBusId_and_nothing_is_sent(string busId)
    {
        await using var server = new HostileServer(HostileServer.Sends(Import(Record())));
        var error = await Assert.ThrowsAsync<VirtToolsException>(() => UsbIpClient.ImportAsync("127.0.0.1", server.Port, busId, Timeout));
        Assert.Equal((UsbIpErrors.InvalidBusIdId, FailureKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(0, server.Connections);
    }

    private static void AssertNamesServer(VirtToolsException error, HostileServer server, string errorId)
    {
        Assert.Equal(errorId, error.ErrorId);
        Assert.Equal(FailureKind.ProtocolError, error.Kind);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        Assert.Equal("127.0.0.1", error.Target);
    }
}
