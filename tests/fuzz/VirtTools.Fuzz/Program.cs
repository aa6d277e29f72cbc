using SharpFuzz;
using VirtTools.UsbIp.Protocol;

// Every USB/IP decoder over the fuzzer's bytes. The codec's own exception is the expected refusal
// (swallowed inside DecodeAll); any other exception or a hang is a finding.
if (args.Length > 0)
{
    // Replay: decode saved inputs (a crash file, the seed corpus) without the fuzzer.
    foreach (var path in args.SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a) : new[] { a }))
        Console.WriteLine($"{path}: {UsbIpDecoderSweep.DecodeAll(File.ReadAllBytes(path))} decoders accepted it");
    return;
}
Fuzzer.LibFuzzer.Run(bytes => UsbIpDecoderSweep.DecodeAll(bytes));
