#if HAS_URB_CODEC
using BenchmarkDotNet.Attributes;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Bench.Codec;

/// <summary>
/// One URB message on the wire is a 48-byte header and its payload: CMD_SUBMIT carries OUT data, RET_SUBMIT
/// carries IN data. Encoding writes the header and copies the payload in; decoding reads the header and copies the
/// payload out. The floor copies the same 48 + payload bytes and nothing else.
/// </summary>
[MemoryDiagnoser]
public class UrbCodecBenchmarks
{
    private byte[] _wire = Array.Empty<byte>();
    private byte[] _submitWire = Array.Empty<byte>();
    private byte[] _replyWire = Array.Empty<byte>();
    private byte[] _data = Array.Empty<byte>();
    private UsbIpSubmitCommand _command;
    private UsbIpSubmitReply _reply;

    [Params(0, 512, 65536)]
    public int Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Payload];
        new Random(6).NextBytes(_data);
        _wire = new byte[UsbIpProtocol.UrbHeaderSize + Payload];
        _command = new UsbIpSubmitCommand(new UsbIpHeaderBasic(UsbIpCommand.Submit, 7, 0x0001_0002, UsbIpDirection.Out, 2),
            0, Payload, 0, UsbIpProtocol.NonIsoPacketCount, 0, default);
        _reply = new UsbIpSubmitReply(new UsbIpHeaderBasic(UsbIpCommand.SubmitReply, 7, 0, UsbIpDirection.Out, 0), 0, Payload, 0, UsbIpProtocol.NonIsoPacketCount, 0);
        _submitWire = new byte[_wire.Length];
        _replyWire = new byte[_wire.Length];
        EncodeSubmit();
        _wire.CopyTo(_submitWire, 0);
        EncodeReply();
        _wire.CopyTo(_replyWire, 0);
    }

    [Benchmark(Baseline = true)]
    public int CopyFloor()
    {
        _submitWire.AsSpan().CopyTo(_wire);
        return _wire.Length;
    }

    [Benchmark]
    public int EncodeSubmit()
    {
        int header = UsbIpUrbCodec.WriteSubmitCommand(_wire, _command);
        _data.CopyTo(_wire.AsSpan(header));
        return header + _data.Length;
    }

    [Benchmark]
    public int DecodeSubmit()
    {
        var command = UsbIpUrbCodec.ReadSubmitCommand(_submitWire);
        _submitWire.AsSpan(UsbIpProtocol.UrbHeaderSize, command.PayloadLength).CopyTo(_data);
        return command.TransferBufferLength;
    }

    [Benchmark]
    public int EncodeReply()
    {
        int header = UsbIpUrbCodec.WriteSubmitReply(_wire, _reply);
        _data.CopyTo(_wire.AsSpan(header));
        return header + _data.Length;
    }

    [Benchmark]
    public int DecodeReply()
    {
        var reply = UsbIpUrbCodec.ReadSubmitReply(_replyWire);
        _replyWire.AsSpan(UsbIpProtocol.UrbHeaderSize, reply.PayloadLength(UsbIpDirection.In)).CopyTo(_data);
        return reply.ActualLength;
    }
}
#endif
