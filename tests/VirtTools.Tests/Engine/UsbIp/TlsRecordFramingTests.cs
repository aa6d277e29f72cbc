using VirtTools.UsbIp.Tls;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// How much a relay's read waits for in the kernel (MSG_WAITALL): the rest of the record body it is in, never more
/// than a peer that sent whole records has still to deliver, so a read cannot wait for bytes that are not coming.
/// </summary>
public sealed class TlsRecordFramingTests
{
    private const int Room = 64 * 1024;

    private static byte[] Record(byte type, int length)
    {
        var record = new byte[TlsRecordFraming.HeaderLength + length];
        (record[0], record[1], record[2], record[3], record[4]) = (type, 3, 3, (byte)(length >> 8), (byte)length);
        return record;
    }

    private static byte[] Stream(params byte[][] records) => records.SelectMany(r => r).ToArray();

    [Fact]
    public void At_a_record_boundary_a_read_takes_what_is_there()
    {
        var framing = new TlsRecordFraming();
        Assert.Equal(0, framing.BodyLeft(Room));
        framing.Consumed(Stream(Record(23, 100), Record(23, 0)));
        Assert.Equal(0, framing.BodyLeft(Room));
    }

    [Fact]
    public void Inside_a_body_a_read_waits_for_the_rest_of_the_record_at_most_the_room_given()
    {
        var framing = new TlsRecordFraming();
        var record = Record(23, 16 * 1024 + 17);
        framing.Consumed(record.AsSpan(0, 1448));
        Assert.Equal(record.Length - 1448, framing.BodyLeft(Room));
        Assert.Equal(4096, framing.BodyLeft(4096));
        framing.Consumed(record.AsSpan(1448));
        Assert.Equal(0, framing.BodyLeft(Room));
    }

    [Fact]
    public void A_header_split_across_reads_is_joined_before_its_body_is_waited_for()
    {
        var framing = new TlsRecordFraming();
        var record = Record(23, 300);
        framing.Consumed(record.AsSpan(0, 3));
        Assert.Equal(0, framing.BodyLeft(Room));
        framing.Consumed(record.AsSpan(3, 2));
        Assert.Equal(300, framing.BodyLeft(Room));
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x11, 0x80, 0x03, 0x00 })] // a USB/IP request, not TLS
    [InlineData(new byte[] { 24, 3, 3, 0, 10 })] // no such content type
    [InlineData(new byte[] { 23, 2, 0, 0, 10 })] // SSL 2 version
    [InlineData(new byte[] { 23, 3, 3, 0x48, 0x01 })] // longer than any TLS record
    public void A_header_no_TLS_record_has_stops_all_waiting_for_good(byte[] header)
    {
        var framing = new TlsRecordFraming();
        framing.Consumed(header);
        Assert.True(framing.IsLost);
        framing.Consumed(Record(23, 100).AsSpan(0, 50));
        Assert.Equal(0, framing.BodyLeft(Room));
    }

    [Fact]
    public void However_a_stream_of_whole_records_is_cut_into_reads_a_read_never_waits_for_more_than_is_left()
    {
        var stream = Stream(Record(22, 40), Record(23, 16 * 1024 + 17), Record(21, 2), Record(23, 0), Record(23, 48), Record(23, 16 * 1024 + 17));
        var random = new Random(15);
        for (var trial = 0; trial < 500; trial++)
        {
            var framing = new TlsRecordFraming();
            var at = 0;
            while (at < stream.Length)
            {
                var room = random.Next(1, 70 * 1024);
                var waited = framing.BodyLeft(room);
                Assert.InRange(waited, 0, Math.Min(room, stream.Length - at));
                var read = Math.Min(stream.Length - at, random.Next(Math.Max(waited, 1), room + 1));
                framing.Consumed(stream.AsSpan(at, read));
                at += read;
            }
            Assert.False(framing.IsLost);
            Assert.Equal(0, framing.BodyLeft(Room));
        }
    }
}
