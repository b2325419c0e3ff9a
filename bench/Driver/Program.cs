using PulseCart.Bench.Driver;

// The parts of bench/run.sh that wrk cannot do: exact 50-way concurrent redelivery, counting sends per
// idempotency key, a counted push of N carts for the memory run, one cart's rate over many events, the quarantine's
// memory under 1 MiB unusable pushes, the silo's grain count, and the report.
return args.FirstOrDefault() switch
{
    "ports" => Ports.Print(Arguments.Parse(args)),
    "redeliver" => await Redeliver.RunAsync(Arguments.Parse(args)),
    "count" => SendCount.Run(Arguments.Parse(args)),
    "push-carts" => await PushCarts.RunAsync(Arguments.Parse(args)),
    "single-cart" => await SingleCart.RunAsync(Arguments.Parse(args)),
    "quarantine" => await QuarantineMemory.RunAsync(Arguments.Parse(args)),
    "grains" => await GrainCount.RunAsync(Arguments.Parse(args)),
    "report" => Report.Run(Arguments.Parse(args)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Driver ports --count N
               Driver redeliver --url URL --prefix P --events N --copies C
               Driver count --file PATH --prefix P --events N
               Driver push-carts --url URL --prefix P --count N --concurrency C [--pid PID]
               Driver single-cart --url URL --prefix P [--events 50000] [--concurrency 4] [--window 1000]
               Driver quarantine --url URL --prefix P --pid PID [--count 500] [--size 1048000] [--concurrency 4] [--settle 30]
               Driver grains --gateway-port PORT
               Driver report --raw RAW.jsonl --out RESULT.json [--gate]
        """);
    return 2;
}
