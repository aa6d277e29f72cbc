using CsCheck;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Engine.UsbIp.HostileReplies;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Whatever bytes a server answers with, over a real loopback connection, the client returns devices it can use or
/// throws the protocol's exception (or, for a well-formed reply with an error status, that status's failure).
/// </summary>
public sealed class HostilePeerPropertyTests
{
    private const long Iterations = 300;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>The failures a well-formed reply's status becomes (UsbIpReplyStatusMessages).</summary>
    private static readonly string[] StatusFailures =
        { "UsbIpDeviceNotAvailable", "UsbIpDeviceBusy", "UsbIpDeviceError", "UsbIpDeviceNotFound", "UsbIpServerError" };

    /// <summary>Random bytes; a valid beginning followed by random bytes; a valid reply with bytes changed and cut.</summary>
    private static Gen<byte[]> Replies(byte[] valid, int beginning) => Gen.OneOf(
        Gen.Byte.Array[0, 700],
        Gen.Byte.Array[0, 700].Select(rest => valid[..beginning].Concat(rest).ToArray()),
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 4], Gen.Byte.Array[4], Gen.Int[0, valid.Length]).Select((positions, values, cut) =>
        {
            var bytes = valid.ToArray();
            for (var i = 0; i < positions.Length; i++) bytes[positions[i]] = values[i];
            return bytes[..cut];
        }));

    [Fact]
    public async Task Any_device_list_reply_gives_usable_devices_or_the_protocol_exception()
    {
        await Replies(DeviceList(Record(), Record("2-4")), UsbIpManagementCodec.DeviceListReplyHeaderSize).SampleAsync(async reply =>
        {
            await using var server = new HostileServer(HostileServer.Sends(reply));
            try
            {
                var list = await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout);
                Assert.All(list, device => Assert.Null(UsbIpDeviceRecordCheck.FindProblem(device)));
                Assert.All(list.Refused, refused => Assert.Equal(UsbIpProtocolException.InvalidDevice, refused.Problem.ErrorId));
            }
            catch (VirtToolsException failure) when (failure is UsbIpProtocolException || StatusFailures.Contains(failure.ErrorId))
            {
                Assert.Contains($"127.0.0.1:{server.Port}", failure.Message);
            }
        }, iter: Iterations, threads: 2);
    }

    [Fact]
    public async Task Any_import_reply_gives_the_device_asked_for_or_the_protocol_exception()
    {
        await Replies(Import(Record()), UsbIpProtocol.OpCommonSize).SampleAsync(async reply =>
        {
            await using var server = new HostileServer(HostileServer.Sends(reply));
            try
            {
                using var import = await UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout);
                Assert.Equal("2-3", import.Device.BusId);
                Assert.Null(UsbIpDeviceRecordCheck.FindProblem(import.Device));
            }
            catch (VirtToolsException failure) when (failure is UsbIpProtocolException || StatusFailures.Contains(failure.ErrorId))
            {
                Assert.Contains($"127.0.0.1:{server.Port}", failure.Message);
            }
        }, iter: Iterations, threads: 2);
    }
}
