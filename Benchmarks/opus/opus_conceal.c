/* Opus's own loss concealment on a take, for ConcealmentBenchmarks.
 *
 *   opus_conceal INPUT.f32 LOSS.mask LOSSLESS.f32 CONCEALED.f32
 *
 * INPUT: 48 kHz stereo float samples, interleaved. LOSS: one byte a 10 ms frame, 1 = lost.
 * Encodes every frame at the highest quality (510 kbit/s, complexity 10, in-band FEC off) and
 * decodes the packets twice: all of them (LOSSLESS), and with the lost ones missing, where the
 * decoder conceals (CONCEALED). Both outputs are shifted back by the encoder's look-ahead (the
 * pre-skip), so sample n of either lines up with sample n of INPUT; the look-ahead is printed, since
 * the samples the decoder concealed for lost frame k are those of frame k moved that much earlier. */
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RATE = 48000, CHANNELS = 2, FRAME = 480, MAX_PACKET = 4000 };

static void *read_all(const char *path, long *size) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(1); }
    fseek(file, 0, SEEK_END);
    *size = ftell(file);
    fseek(file, 0, SEEK_SET);
    void *data = malloc(*size > 0 ? *size : 1);
    if (fread(data, 1, *size, file) != (size_t)*size) { perror(path); exit(1); }
    fclose(file);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: opus_conceal INPUT.f32 LOSS.mask LOSSLESS.f32 CONCEALED.f32\n"); return 2; }
    long input_size, mask_size;
    float *input = read_all(argv[1], &input_size);
    unsigned char *lost = read_all(argv[2], &mask_size);
    long frames = input_size / (long)(sizeof(float) * CHANNELS * FRAME);
    if (mask_size < frames) { fprintf(stderr, "the mask has %ld frames, the input %ld\n", mask_size, frames); return 1; }

    int error;
    OpusEncoder *encoder = opus_encoder_create(RATE, CHANNELS, OPUS_APPLICATION_AUDIO, &error);
    if (error != OPUS_OK) { fprintf(stderr, "encoder: %s\n", opus_strerror(error)); return 1; }
    opus_encoder_ctl(encoder, OPUS_SET_BITRATE(510000));
    opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(10));
    opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(0));
    opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(0));
    opus_int32 lookahead = 0;
    opus_encoder_ctl(encoder, OPUS_GET_LOOKAHEAD(&lookahead));
    OpusDecoder *whole = opus_decoder_create(RATE, CHANNELS, &error);
    OpusDecoder *concealing = opus_decoder_create(RATE, CHANNELS, &error);
    if (error != OPUS_OK) { fprintf(stderr, "decoder: %s\n", opus_strerror(error)); return 1; }

    /* Decoded with `lookahead` extra samples at the start: one more (silent) frame in, then shifted. */
    long total = (frames + 1) * FRAME;
    float *lossless = calloc(total * CHANNELS, sizeof(float));
    float *concealed = calloc(total * CHANNELS, sizeof(float));
    float *silent = calloc(FRAME * CHANNELS, sizeof(float));
    unsigned char packet[MAX_PACKET];
    for (long frame = 0; frame <= frames; frame++) {
        const float *pcm = frame < frames ? input + frame * FRAME * CHANNELS : silent;
        int bytes = opus_encode_float(encoder, pcm, FRAME, packet, MAX_PACKET);
        if (bytes < 0) { fprintf(stderr, "encode: %s\n", opus_strerror(bytes)); return 1; }
        float *one = lossless + frame * FRAME * CHANNELS, *other = concealed + frame * FRAME * CHANNELS;
        if (opus_decode_float(whole, packet, bytes, one, FRAME, 0) != FRAME) { fprintf(stderr, "decode failed\n"); return 1; }
        int gone = frame < frames && lost[frame];
        int decoded = gone ? opus_decode_float(concealing, NULL, 0, other, FRAME, 0)
                           : opus_decode_float(concealing, packet, bytes, other, FRAME, 0);
        if (decoded != FRAME) { fprintf(stderr, "decode failed\n"); return 1; }
    }
    FILE *out = fopen(argv[3], "wb");
    fwrite(lossless + lookahead * CHANNELS, sizeof(float), frames * FRAME * CHANNELS, out);
    fclose(out);
    out = fopen(argv[4], "wb");
    fwrite(concealed + lookahead * CHANNELS, sizeof(float), frames * FRAME * CHANNELS, out);
    fclose(out);
    printf("%d\n", lookahead);
    return 0;
}
