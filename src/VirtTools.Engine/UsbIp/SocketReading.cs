using System.Net.Sockets;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp;

/// <summary>Reads whole protocol pieces from a TCP socket or a TLS stream: a peer that closes mid-message sent a truncated message.</summary>
internal static class SocketReading
{
    public static async ValueTask ReceiveExactlyAsync(this Socket socket, Memory<byte> buffer, string what, CancellationToken cancellation)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[received..], SocketFlags.None, cancellation).ConfigureAwait(false);
            if (n == 0)
                throw new UsbIpProtocolException(UsbIpProtocolException.Truncated,
                    $"The peer closed the connection after {received} of the {buffer.Length} bytes of the {what}.");
            received += n;
        }
    }

    public static async ValueTask ReceiveExactlyAsync(this Stream stream, Memory<byte> buffer, string what, CancellationToken cancellation)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[received..], cancellation).ConfigureAwait(false);
            if (n == 0)
                throw new UsbIpProtocolException(UsbIpProtocolException.Truncated,
                    $"The peer closed the connection after {received} of the {buffer.Length} bytes of the {what}.");
            received += n;
        }
    }
}
